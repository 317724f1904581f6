package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/test/servetest"
)

// The policy edit of the walkthrough: operators may upload versions of the mini
// programs assigned to them.
const (
	operatorRole   = "\"title\": \"Operator\",\n\t\t\"workspace_type\": \"developer\",\n\t\t\"grants\": {\n"
	operatorUpload = "\t\t\t\"miniprogram.version:upload\": \"assigned\",\n"
	matrixBefore   = `"miniprogram.version:upload": "W x W x W A x",`
	matrixAfter    = `"miniprogram.version:upload": "W x W x W A A",`
	oscarUploads   = `{"subject":"u-oscar","action":"miniprogram.version:upload",` +
		`"resource":{"workspace":"dw-shop","id":"mp-1"}}`
)

// yesterday is the traffic of the decision log the candidate is replayed against;
// only u-oscar's upload changes with the edit.
var yesterday = []string{
	oscarUploads,
	`{"subject":"u-dev","action":"miniprogram.version:upload","resource":{"workspace":"dw-shop","id":"mp-1"}}`,
	`{"subject":"u-dev","action":"miniprogram:update","resource":{"workspace":"dw-shop","id":"mp-2"}}`,
	`{"subject":"u-oscar","action":"miniprogram:view","resource":{"workspace":"dw-shop","id":"mp-2"}}`,
	`{"subject":"u-ivy","action":"miniprogram.version:upload","resource":{"workspace":"dw-shop","id":"mp-1"}}`,
}

// workflow is a policy author's checkout and the production service it publishes to.
type workflow struct {
	dir, policies, permissions, site, log string
	sign                                  bundle.Signing
	verify                                bundle.Verification
	svc                                   *service
	live                                  string // the revision in production
}

// TestPolicyWorkflow follows the README's policy workflow in order, with the built
// binary, on a copy of policies/: edit, policy test, policy check, the matrix,
// replay against yesterday's log, build and sign, publish to a static HTTP server,
// and the running service picking the new revision up without a restart.
func TestPolicyWorkflow(t *testing.T) {
	w := newWorkflow(t)
	w.serveProduction(t)
	oscarID := w.yesterday(t)

	w.step(t, "1 edit the model", w.edit)
	w.step(t, "2 policy test", w.policyTest)
	w.step(t, "3 policy check", w.policyCheck)
	w.step(t, "4 matrix", w.matrix)
	w.step(t, "5 replay", func(t *testing.T) { w.replay(t, oscarID) })
	candidate := filepath.Join(w.dir, "candidate.tar.gz")
	var revision string
	w.step(t, "6 bundle build and sign", func(t *testing.T) { revision = w.build(t, candidate, oscarID) })
	w.step(t, "7 publish", func(t *testing.T) { w.publish(t, candidate) })
	w.step(t, "8 the service picks it up", func(t *testing.T) { w.pickedUp(t, revision) })
}

// step runs one step of the walkthrough; a failed step stops the rest.
func (w *workflow) step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

func newWorkflow(t *testing.T) *workflow {
	t.Helper()
	dir := t.TempDir()
	w := &workflow{
		dir: dir, policies: filepath.Join(dir, "policies"), site: filepath.Join(dir, "site"),
		permissions: filepath.Join(dir, "docs", "permissions.md"), log: filepath.Join(dir, "yesterday.log"),
	}
	if err := os.CopyFS(w.policies, os.DirFS(filepath.Join(repoRoot, "policies"))); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{w.site, filepath.Dir(w.permissions)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, filepath.Join(repoRoot, "docs", "permissions.md"), w.permissions)
	w.sign, w.verify = bundletest.Keys(t, bundle.AlgRS256)
	return w
}

// serveProduction publishes the signed bundle of the unedited policy on a static
// HTTP server and runs rolegate from it, logging decisions to yesterday's log.
func (w *workflow) serveProduction(t *testing.T) {
	t.Helper()
	published := filepath.Join(w.site, "rolegate.tar.gz")
	w.live = w.buildSigned(t, published)
	site := httptest.NewServer(http.FileServer(http.Dir(w.site)))
	t.Cleanup(site.Close)

	cfg := fmt.Sprintf(`data: examples/memberships.json
decision_log: %s
policy_source:
  url: %s/rolegate.tar.gz
  poll_interval: 200ms
  verification: {key_file: %s, algorithm: RS256}
`, w.log, site.URL, w.verify.KeyFile)
	path := filepath.Join(w.dir, "bundle.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	w.svc = startServe(t, nil, "--config", path)
	if rev := statusRevision(t, w.svc.url); rev != w.live {
		t.Fatalf("production serves %q, want the published %q", rev, w.live)
	}
}

// yesterday asks production the day's questions; it returns the id of u-oscar's
// denied upload, the decision the edit will change.
func (w *workflow) yesterday(t *testing.T) string {
	t.Helper()
	var oscarID string
	for i, body := range yesterday {
		d := decide(t, w.svc.url, body)
		if i == 0 {
			if d.Allow {
				t.Fatalf("u-oscar may already upload: %+v", d)
			}
			oscarID = d.ID
		}
	}
	return oscarID
}

func (w *workflow) edit(t *testing.T) {
	replaceOnce(t, filepath.Join(w.policies, "rolegate", "model", "model.rego"), operatorRole,
		operatorRole+operatorUpload)
}

// policyTest: the Rego tests catch the edit, since matrix_test.rego writes the
// matrix out independently; once its row is updated they pass with coverage.
func (w *workflow) policyTest(t *testing.T) {
	r := run(t, "", "policy", "test", w.policies)
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "test_model_grants_exactly_the_matrix: fail") {
		t.Fatalf("policy test before the matrix test is updated: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	replaceOnce(t, filepath.Join(w.policies, "rolegate", "authz", "matrix_test.rego"), matrixBefore, matrixAfter)
	r = run(t, "", "policy", "test", w.policies)
	if r.code != 0 || !strings.Contains(r.stdout, "FAIL 0, coverage") {
		t.Fatalf("policy test: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func (w *workflow) policyCheck(t *testing.T) {
	r := run(t, "", "policy", "check", w.policies)
	if r.code != 0 || !strings.Contains(r.stdout, "strict compile and formatting clean") {
		t.Fatalf("policy check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// matrix regenerates permissions.md as make matrix does; the review finds exactly
// the one cell the edit meant to change.
func (w *workflow) matrix(t *testing.T) {
	before, err := os.ReadFile(w.permissions)
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "matrix", "--policy", w.policies)
	if r.code != 0 {
		t.Fatalf("matrix: exit %d: %s", r.code, r.stderr)
	}
	if err := os.WriteFile(w.permissions, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	removed, added := lineDiff(string(before), r.stdout)
	want := [2][]string{
		{"| `miniprogram.version:upload` | ✓ | A | × |"},
		{"| `miniprogram.version:upload` | ✓ | A | A |"},
	}
	if fmt.Sprint(removed) != fmt.Sprint(want[0]) || fmt.Sprint(added) != fmt.Sprint(want[1]) {
		t.Fatalf("permissions.md changed by -%q +%q, want -%q +%q", removed, added, want[0], want[1])
	}
}

// replay names u-oscar's decision as the one change, and fails until accepted.
func (w *workflow) replay(t *testing.T, oscarID string) {
	r := run(t, "", "replay", "--log", w.log, "--policy", w.policies)
	checkReplay(t, r, 1, oscarID)
}

func checkReplay(t *testing.T, r result, wantCode int, oscarID string) {
	t.Helper()
	want := []string{
		"replayed                    5",
		"changed                     1 (allow→deny 0, deny→allow 1)",
		"miniprogram.version:upload  operator           0           1",
		oscarID + " (line ", "u-oscar on dw-shop/mp-1: deny → allow",
	}
	for _, s := range want {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("replay output lacks %q", s)
		}
	}
	if r.code != wantCode || t.Failed() {
		t.Fatalf("replay: exit %d, want %d\n%s%s", r.code, wantCode, r.stdout, r.stderr)
	}
}

// build builds and signs the candidate bundle, verifies it, and replays once more
// against the file that will be published.
func (w *workflow) build(t *testing.T, candidate, oscarID string) string {
	revision := w.buildSigned(t, candidate)
	if revision == w.live {
		t.Fatalf("the edited policy has the published revision %s", revision)
	}
	r := run(t, "", "bundle", "verify", candidate, "--verification-key", w.verify.KeyFile,
		"--verification-alg", w.verify.Algorithm)
	if r.code != 0 || !strings.Contains(r.stdout, "signature verified, revision "+revision) {
		t.Fatalf("bundle verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "", "replay", "--log", w.log, "--bundle", candidate, "--allow-changes")
	checkReplay(t, r, 0, oscarID)
	return revision
}

// buildSigned runs bundle build with the signing key and returns the revision.
func (w *workflow) buildSigned(t *testing.T, out string) string {
	t.Helper()
	dir := w.policies
	if w.live == "" {
		dir = "policies" // the unedited policy, in the repository where run runs
	}
	r := run(t, "", "bundle", "build", dir, "-o", out, "--signing-key", w.sign.KeyFile,
		"--signing-alg", w.sign.Algorithm)
	_, rest, ok := strings.Cut(r.stdout, ": revision ")
	revision, signed, _ := strings.Cut(rest, ", ")
	if r.code != 0 || !ok || signed != "signed with RS256\n" {
		t.Fatalf("bundle build: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return revision
}

// publish replaces the served bundle in one rename, as a static site deploy does.
func (w *workflow) publish(t *testing.T, candidate string) {
	tmp := filepath.Join(w.site, ".rolegate.tar.gz.new")
	copyFile(t, candidate, tmp)
	if err := os.Rename(tmp, filepath.Join(w.site, "rolegate.tar.gz")); err != nil {
		t.Fatal(err)
	}
}

// pickedUp waits for the running service to activate the published revision, then
// checks a decision and the matrix the console shows.
func (w *workflow) pickedUp(t *testing.T, revision string) {
	before := statusOf(t, w.svc.url)
	deadline := time.Now().Add(20 * time.Second)
	for statusRevision(t, w.svc.url) != revision {
		if time.Now().After(deadline) {
			t.Fatalf("still on %s 20 s after publishing %s\n%s", w.live, revision, w.svc.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	after := statusOf(t, w.svc.url)
	if !after.StartedAt.Equal(before.StartedAt) || after.Policy.Source.Stats.Activations != 2 {
		t.Fatalf("started at %v then %v, %d activations; want one process, two activations",
			before.StartedAt, after.StartedAt, after.Policy.Source.Stats.Activations)
	}
	d := decide(t, w.svc.url, oscarUploads)
	if !d.Allow || d.Revision.Policy != revision || d.Reasons[0].Code != "granted" {
		t.Fatalf("u-oscar's upload on the new revision: %+v", d)
	}
	var m struct {
		PolicyRevision string `json:"policy_revision"`
		WorkspaceTypes []struct {
			Cells map[string]map[string]string `json:"cells"`
		} `json:"workspace_types"`
	}
	getJSON(t, w.svc.url+"/v1/matrix", &m)
	upload := m.WorkspaceTypes[1].Cells["miniprogram.version:upload"]
	if m.PolicyRevision != revision || upload["operator"] != "A" {
		t.Fatalf("the console's matrix is of %s, upload %v; want %s and A for operators",
			m.PolicyRevision, upload, revision)
	}
}

func decide(t *testing.T, url, body string) servetest.Decision {
	t.Helper()
	status, out := post(t, url+"/v1/decisions", body)
	var d servetest.Decision
	if err := json.Unmarshal([]byte(out), &d); status != http.StatusOK || err != nil {
		t.Fatalf("decision %s: %d %s", body, status, out)
	}
	return d
}

// serviceStatus is the part of GET /v1/status the workflow reads.
type serviceStatus struct {
	Policy struct {
		Revision string `json:"revision"`
		Source   struct {
			Stats struct {
				Activations int `json:"activations"`
			} `json:"stats"`
		} `json:"source"`
	} `json:"policy"`
	StartedAt time.Time `json:"started_at"`
}

func statusOf(t *testing.T, url string) serviceStatus {
	t.Helper()
	var st serviceStatus
	getJSON(t, url+"/v1/status", &st)
	return st
}

func statusRevision(t *testing.T, url string) string {
	t.Helper()
	return statusOf(t, url).Policy.Revision
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
}

// replaceOnce replaces old, which the file must hold exactly once, with new.
func replaceOnce(t *testing.T, path, old, new string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), old); n != 1 {
		t.Fatalf("%s holds %q %d times, want once", path, old, n)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(src), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lineDiff returns the lines of a missing from b and the lines of b missing from a.
func lineDiff(a, b string) (removed, added []string) {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		if count[l] > 0 {
			count[l]--
			continue
		}
		added = append(added, l)
	}
	for l, n := range count {
		for range n {
			removed = append(removed, l)
		}
	}
	return removed, added
}
