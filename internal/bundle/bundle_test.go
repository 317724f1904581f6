package bundle_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
)

// TestWriteFileIsWorldReadable holds bundle files to opa build's mode, so that a static
// HTTP server running as another user can serve them.
func TestWriteFileIsWorldReadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out", "rolegate.tar.gz")
	if err := bundle.WriteFile(path, bundletest.Policy(t, nil)); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != bundle.FileMode {
		t.Fatalf("mode %v, want %v", got, os.FileMode(bundle.FileMode))
	}
}
