package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/test/servetest"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name     string
		request  string
		wantAll  bool
		wantCode string
	}{
		{
			name:     "developer on an assigned mini program",
			request:  `{"subject":"u-dev","action":"miniprogram:update","resource":{"workspace":"dw-shop","id":"mp-1"}}`,
			wantAll:  true,
			wantCode: "granted",
		},
		{
			name:     "developer on another mini program",
			request:  `{"subject":"u-dev","action":"miniprogram:update","resource":{"workspace":"dw-shop","id":"mp-2"}}`,
			wantCode: "not_assigned",
		},
		{
			name:     "tenant admin in another tenant's merchant",
			request:  `{"subject":"u-bob","action":"miniprogram:view","resource":{"workspace":"dw-shop","id":"mp-1"}}`,
			wantCode: "other_tenant",
		},
		{
			name:     "unknown operation",
			request:  `{"subject":"u-ann","action":"miniprogram:fly","resource":{"workspace":"tw-alpha"}}`,
			wantCode: "unknown_operation",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, via := range []string{"file", "stdin"} {
				input, stdin := "-", tt.request
				if via == "file" {
					input = filepath.Join(t.TempDir(), "request.json")
					if err := os.WriteFile(input, []byte(tt.request), 0o600); err != nil {
						t.Fatal(err)
					}
					stdin = ""
				}
				r := run(t, stdin, "decide", "--data", "examples/memberships.json", "--input", input)
				if r.code != 0 {
					t.Fatalf("%s: exit %d: %s", via, r.code, r.stderr)
				}
				var d servetest.Decision
				if err := json.Unmarshal([]byte(r.stdout), &d, json.RejectUnknownMembers(true)); err != nil {
					t.Fatalf("%s: output %q: %v", via, r.stdout, err)
				}
				if d.Allow != tt.wantAll || !hasCode(d, tt.wantCode) {
					t.Fatalf("%s: decision %+v, want allow=%v %s", via, d, tt.wantAll, tt.wantCode)
				}
			}
		})
	}
}

func hasCode(d servetest.Decision, code string) bool {
	for _, r := range d.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

func TestDecideErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	err := os.WriteFile(bad, []byte(`{"workspaces":[{"id":"dw","type":"developer"}],"memberships":[]}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	valid := `{"subject":"u","action":"a:b","resource":{"workspace":"w"}}`
	tests := []struct {
		name, stdin string
		args        []string
		wantErr     string
	}{
		{"invalid request", `{"subject":"u"}`, []string{"--data", "examples/memberships.json"}, "action is required"},
		{"invalid data file", valid, []string{"--data", bad}, "a developer workspace needs its tenant"},
		{"missing data file", valid, []string{"--data", "nope.json"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.stdin, append([]string{"decide", "--input", "-"}, tt.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("exit %d, stderr %q; want failure saying %q", r.code, r.stderr, tt.wantErr)
			}
		})
	}
}

func TestMatrix(t *testing.T) {
	md := run(t, "", "matrix")
	want, err := os.ReadFile(filepath.Join(repoRoot, "docs", "permissions.md"))
	if err != nil {
		t.Fatal(err)
	}
	if md.code != 0 || md.stdout != string(want) {
		t.Fatalf("matrix differs from docs/permissions.md (exit %d):\n%s", md.code,
			cmp.Diff(string(want), md.stdout))
	}

	js := run(t, "", "matrix", "--format", "json")
	var m struct {
		Revision string `json:"policy_revision"`
		Types    []struct {
			Type  string                       `json:"workspace_type"`
			Cells map[string]map[string]string `json:"cells"`
		} `json:"workspace_types"`
	}
	if err := json.Unmarshal([]byte(js.stdout), &m); err != nil {
		t.Fatal(err)
	}
	if m.Revision == "" || len(m.Types) != 2 || m.Types[1].Cells["miniprogram:view"]["developer"] != "A" {
		t.Fatalf("unexpected JSON matrix: %+v", m)
	}

	if r := run(t, "", "matrix", "--format", "csv"); r.code == 0 {
		t.Fatal("an unknown format was accepted")
	}
}

func TestBundleBuildAndInspect(t *testing.T) {
	out := filepath.Join(t.TempDir(), "rolegate.tar.gz")
	if r := run(t, "", "bundle", "build", "-o", out, "policies"); r.code != 0 {
		t.Fatalf("build: exit %d: %s", r.code, r.stderr)
	}
	r := run(t, "", "bundle", "inspect", out)
	if r.code != 0 {
		t.Fatalf("inspect: exit %d: %s", r.code, r.stderr)
	}
	var c struct {
		Revision string   `json:"revision"`
		Roots    []string `json:"roots"`
		Modules  []struct {
			Path string `json:"path"`
		} `json:"modules"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Revision) != 16 || !cmp.Equal(c.Roots, []string{"rolegate"}) || len(c.Modules) == 0 {
		t.Fatalf("manifest: %+v", c)
	}
	for _, m := range c.Modules {
		if strings.HasSuffix(m.Path, "_test.rego") {
			t.Errorf("bundle holds test file %s", m.Path)
		}
	}

	// The bundle decides like the directory it came from.
	req := `{"subject":"u-dana","action":"miniprogram:create","resource":{"workspace":"dw-shop"}}`
	fromBundle := run(t, req, "decide", "--policy", out, "--data", "examples/memberships.json", "--input", "-")
	fromDir := run(t, req, "decide", "--policy", "policies", "--data", "examples/memberships.json", "--input", "-")
	if fromBundle.code != 0 || fromBundle.stdout != fromDir.stdout || !strings.Contains(fromBundle.stdout, `"allow":true`) {
		t.Fatalf("bundle %q, directory %q", fromBundle.stdout, fromDir.stdout)
	}
}

func TestPolicyCommandsFail(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("p.rego", "package rolegate.p\n\nx := 1\n\ny := 2\n")
	write("p_test.rego", "package rolegate.p_test\n\ntest_x if data.rolegate.p.x == 2\n")

	r := run(t, "", "policy", "test", dir)
	if r.code != 2 || !strings.Contains(r.stdout, "FAIL 1") {
		t.Fatalf("policy test: exit %d, stdout %q", r.code, r.stdout)
	}

	write("p_test.rego", "package rolegate.p_test\n\ntest_x if data.rolegate.p.x == 1\n")
	r = run(t, "", "policy", "test", "--threshold", "100", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "coverage") {
		t.Fatalf("policy test under threshold: exit %d, stderr %q", r.code, r.stderr)
	}

	write("p.rego", "package rolegate.p\n\nx   := 1\n")
	r = run(t, "", "policy", "check", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "not formatted") {
		t.Fatalf("policy check: exit %d, stderr %q", r.code, r.stderr)
	}
}
