package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/config"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rolegate.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadLayers(t *testing.T) {
	path := writeFile(t, "addr: 0.0.0.0:9000\ndata: a.json\nlimits:\n  max_batch: 10\n  request_timeout: 500ms\n")
	c, err := config.Load(path, env(map[string]string{
		"ROLEGATE_DATA": "b.json", "ROLEGATE_LOG_LEVEL": "debug", "ROLEGATE_DEBUG_ADDR": "127.0.0.1:6060",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.Addr = "0.0.0.0:9000"
	want.Data = "b.json"
	want.Limits.MaxBatch = 10
	want.Limits.RequestTimeout = 500 * time.Millisecond
	want.Log.Level = "debug"
	want.DebugAddr = "127.0.0.1:6060"
	if diff := cmp.Diff(want, c); diff != "" {
		t.Fatalf("config (-want +got):\n%s", diff)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRejectsUnknownKeys(t *testing.T) {
	_, err := config.Load(writeFile(t, "adr: x\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "adr") {
		t.Fatalf("error = %v, want one naming the unknown key", err)
	}
}

func TestEnvErrors(t *testing.T) {
	_, err := config.Load("", env(map[string]string{"ROLEGATE_MAX_BATCH": "many", "ROLEGATE_REQUEST_TIMEOUT": "soon"}))
	for _, want := range []string{"ROLEGATE_MAX_BATCH", "ROLEGATE_REQUEST_TIMEOUT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, want one naming %s", err, want)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := config.Default()
	c.Addr = ""
	c.Limits.MaxBatch = 0
	c.Log.Format = "xml"
	c.Log.Level = "loud"
	c.DebugAddr = "6060"
	err := c.Validate()
	for _, want := range []string{"addr", "max_batch", "log.format", "log.level", "debug_addr"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, want one naming %s", err, want)
		}
	}
}
