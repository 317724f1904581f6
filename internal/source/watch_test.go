package source_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/source"
)

func TestDirectoryReload(t *testing.T) {
	dir := t.TempDir()
	for path, file := range bundletest.Files(t, nil) {
		writeFile(t, filepath.Join(dir, path), file.Data)
	}
	r := newRig(t, source.Config{Directory: dir})
	if err := r.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := r.e.Policy()
	if first == nil {
		t.Fatalf("no policy after Start: %+v", r.m.Status())
	}
	if d := r.svc.Decide(context.Background(), adminViews); !d.Allow {
		t.Fatalf("decision = %+v, want allowed", d)
	}

	model := filepath.Join(dir, "rolegate", "model", "model.rego")
	edited := bundletest.Edit(t, "rolegate/model/model.rego", `"workspace:view": "workspace",`, "")
	writeFile(t, model, []byte(edited))
	eventually(t, "the edited policy is active", func() bool { return r.e.Policy() != first })
	if d := r.svc.Decide(context.Background(), adminViews); d.Allow {
		t.Fatalf("decision = %+v, want denied by the edited policy", d)
	}

	// A broken edit keeps the last good revision.
	active := r.e.Policy()
	writeFile(t, model, []byte("package rolegate.model\n\nroles := {\n"))
	eventually(t, "the broken edit is refused", func() bool {
		return r.m.Stats().Failures[source.StageParse] > 0
	})
	if r.e.Policy() != active {
		t.Fatal("a broken edit replaced the policy")
	}
}

func TestFileReload(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "rolegate.tar.gz")
	writeFile(t, path, bundletest.Tarball(t, f.good))
	r := newRig(t, source.Config{File: path, Verification: f.verify})
	if err := r.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := r.e.Policy(); p == nil || p.Revision() != f.good.Manifest.Revision {
		t.Fatalf("active policy %v, want %s: %+v", p, f.good.Manifest.Revision, r.m.Status())
	}

	// Deployments replace the file by renaming a new one over it.
	tmp := filepath.Join(filepath.Dir(path), ".new")
	writeFile(t, tmp, bundletest.Tarball(t, f.other))
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new bundle is active", func() bool {
		return r.e.Policy().Revision() == f.other.Manifest.Revision
	})
	if st := r.m.Status(); st.Policy.Origin.Kind != source.KindFile || st.Stats.Activations != 2 {
		t.Fatalf("status = %+v", st)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
