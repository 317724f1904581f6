package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
)

// TestReplay logs a few decisions of a running service, then replays the log against
// a bundle that takes a grant away and against one that changes nothing.
func TestReplay(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "decisions.log")
	updateID := serveDecisions(t, log)

	changed := filepath.Join(dir, "changed.tar.gz")
	buildBundle(t, changed, changedPolicy(t, dir))
	same := filepath.Join(dir, "same.tar.gz")
	buildBundle(t, same, "policies")

	r := run(t, "", "replay", "--log", log, "--bundle", changed)
	if r.code != 1 || !strings.Contains(r.stderr, "1 of 3 decisions would change") {
		t.Fatalf("changed bundle: exit %d, stderr %q; want 1 and one change", r.code, r.stderr)
	}
	for _, want := range []string{"miniprogram:update  developer", updateID, "allow → deny"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}

	if r := run(t, "", "replay", "--log", log, "--bundle", changed, "--allow-changes"); r.code != 0 {
		t.Errorf("--allow-changes: exit %d: %s", r.code, r.stderr)
	}
	r = run(t, "", "replay", "--log", log, "--bundle", same)
	if r.code != 0 || !strings.Contains(r.stdout, "No decision would change.") {
		t.Errorf("unchanged bundle: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestReplayFromStandardInputAsJSON(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "decisions.log")
	updateID := serveDecisions(t, log)
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}

	r := run(t, string(data), "replay", "--log", "-", "--policy", changedPolicy(t, dir), "--format", "json")
	var rep struct {
		Replayed int `json:"replayed"`
		Changed  int `json:"changed"`
		Groups   []struct {
			Operation string `json:"operation"`
			Role      string `json:"role"`
			Examples  []struct {
				DecisionID string `json:"decision_id"`
			} `json:"examples"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("exit %d, output %q: %v", r.code, r.stdout, err)
	}
	if r.code != 1 || rep.Replayed != 3 || rep.Changed != 1 || len(rep.Groups) != 1 ||
		rep.Groups[0].Role != "developer" || rep.Groups[0].Examples[0].DecisionID != updateID {
		t.Fatalf("exit %d, report %+v; want 1 and u-dev's update changed", r.code, rep)
	}
}

func TestReplayErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	bad := write("bad.tar.gz", "not a bundle")
	empty := write("empty.log", "")
	cut := write("cut.log", `{"msg":"listening"}`+"\n"+`{"time":"2025-01-15T09:30:00Z","msg":"decision","decision_id":`)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unreadable bundle", []string{"--log", empty, "--bundle", bad}, "candidate policy: load policy bundle"},
		{"missing bundle", []string{"--log", empty, "--bundle", filepath.Join(dir, "nope.tar.gz")}, "no such file"},
		{"missing log", []string{"--log", filepath.Join(dir, "nope.log"), "--policy", "policies"}, "open decision log"},
		{"malformed log", []string{"--log", cut, "--policy", "policies"}, "line 2: malformed decision"},
		{"no candidate", []string{"--log", empty}, "--bundle FILE or --policy DIR"},
		{"unknown flag", []string{"--log", empty, "--policy", "policies", "--colour"}, "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", append([]string{"replay"}, tt.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.wantErr)
			}
		})
	}
}

// serveDecisions runs the service with its decision log at log, asks for three
// decisions and stops it. It returns the id of the allowed update by u-dev.
func serveDecisions(t *testing.T, log string) string {
	t.Helper()
	s := startServe(t, []string{"ROLEGATE_DECISION_LOG=" + log}, "--data", "examples/memberships.json")
	var updateID string
	for i, body := range []string{
		`{"subject":"u-dev","action":"miniprogram:update","resource":{"workspace":"dw-shop","id":"mp-1"}}`,
		`{"subject":"u-dev","action":"miniprogram:update","resource":{"workspace":"dw-shop","id":"mp-2"}}`,
		`{"subject":"u-dana","action":"miniprogram:create","resource":{"workspace":"dw-shop"}}`,
	} {
		status, out := post(t, s.url+"/v1/decisions", body)
		var d struct {
			ID string `json:"decision_id"`
		}
		if err := json.Unmarshal([]byte(out), &d); status != http.StatusOK || err != nil {
			t.Fatalf("decision %d: %d %s", i, status, out)
		}
		if i == 0 {
			updateID = d.ID
		}
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop within 15s of SIGTERM\n%s", s.logs())
	}
	return updateID
}

// changedPolicy copies the policy into dir and takes miniprogram:update away from
// developers, as a policy author might by mistake. It returns the copy's folder.
func changedPolicy(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "policies")
	if err := os.CopyFS(out, os.DirFS(filepath.Join(repoRoot, "policies"))); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(out, "rolegate", "model", "model.rego")
	src, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	const grant = "\t\t\t\"miniprogram:update\": \"assigned\",\n"
	if strings.Count(string(src), grant) != 1 {
		t.Fatalf("the model does not grant developers miniprogram:update once")
	}
	edited := strings.Replace(string(src), grant, "", 1)
	if err := os.WriteFile(model, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

func buildBundle(t *testing.T, out, dir string) {
	t.Helper()
	if r := run(t, "", "bundle", "build", "-o", out, dir); r.code != 0 {
		t.Fatalf("bundle build %s: exit %d: %s", dir, r.code, r.stderr)
	}
}
