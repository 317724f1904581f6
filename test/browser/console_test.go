package browser

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rolegate/rolegate/internal/auth/authtest"
	"github.com/rolegate/rolegate/test/servetest"
)

const (
	issuer   = "https://idp.rolegate.test"
	audience = "rolegate"
)

// console is a served rolegate with a browser pointed at it.
type console struct {
	*browser
	svc    *servetest.Service
	policy string // the served copy of policies/, which the test may edit
	keys   *authtest.Keys
	shots  string // where screenshots go
}

// serveConsole runs rolegate on the example memberships, a copy of the policy and
// the membership API authenticated with a test key.
func serveConsole(t *testing.T) *console {
	t.Helper()
	dir := t.TempDir()
	c := &console{keys: authtest.NewKeys(t), policy: filepath.Join(dir, "policies"), shots: t.ArtifactDir()}
	if err := os.CopyFS(c.policy, os.DirFS(filepath.Join(repoRoot, "policies"))); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`data: examples/memberships.json
decision_log: "off"
policy: %s
auth:
  jwt:
    issuer: %s
    audience: %s
    keys:
      - algorithm: RS256
        file: %s
`, c.policy, issuer, audience, c.keys.RSAFile)
	path := filepath.Join(dir, "rolegate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c.svc = servetest.Start(t, binary, servetest.Options{
		Dir:  repoRoot,
		Env:  []string{"PATH=/usr/bin:/bin"},
		Args: []string{"serve", "--config", path, "--addr", "127.0.0.1:0"},
	})
	c.browser = newBrowser(t)
	return c
}

// token returns a bearer token of the user, signed with the key the service trusts.
func (c *console) token(t *testing.T, user string) string {
	t.Helper()
	return authtest.Sign(t, map[string]any{"alg": "RS256", "typ": "JWT"},
		authtest.Claims(user, issuer, audience), c.keys.RSA)
}

// status reads GET /v1/status.
func (c *console) status(t *testing.T) (policy, membership string) {
	t.Helper()
	resp, err := http.Get(c.svc.URL + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Policy     struct{ Revision string }
		Membership struct{ Revision string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Policy.Revision, st.Membership.Revision
}

// TestConsoleInChromium loads every page of the console in headless Chromium and
// uses it as a person would: the status, the matrix, the workspace view without and
// with a token, the explorer for an allowed and a denied decision, and the matrix
// following a new policy revision. It fails on any script error or CSP violation.
func TestConsoleInChromium(t *testing.T) {
	c := serveConsole(t)
	revision, _ := c.status(t)

	t.Run("status", func(t *testing.T) { checkStatus(t, c, revision) })
	t.Run("matrix", func(t *testing.T) { checkMatrix(t, c, revision) })
	t.Run("workspace without a token", func(t *testing.T) { checkWorkspaceWithoutToken(t, c) })
	t.Run("workspace with a token", func(t *testing.T) { checkWorkspaceWithToken(t, c) })
	t.Run("explorer", func(t *testing.T) { checkExplorer(t, c) })
	t.Run("status counts the decisions", func(t *testing.T) { checkStatusCounts(t, c) })
	t.Run("matrix follows a new revision", func(t *testing.T) { checkNewRevision(t, c, revision) })
	t.Run("unknown page", func(t *testing.T) { checkUnknownPage(t, c) })
	checkConsoleMessages(t, c)

	if logs := c.svc.Logs(); strings.Contains(logs, c.token(t, "u-dana")[:40]) {
		t.Errorf("a token reached the service log")
	}
}

func checkStatus(t *testing.T, c *console, revision string) {
	c.open(t, c.svc.URL+"/ui/")
	if got := c.waitText(t, "#policy-revision", revision); got != revision {
		t.Errorf("policy revision %q, want %q", got, revision)
	}
	for sel, want := range map[string]string{
		"#policy-ready": "ready", "#store-health": "healthy", "#store-kind": "memory",
		"#membership-revision": "1", "#policy-source": "directory",
	} {
		if got := c.waitText(t, sel, want); !strings.HasPrefix(got, want) {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	c.waitText(t, "#policy-age", " since ")
	c.screenshot(t, c.shots, "status.png")
}

func checkMatrix(t *testing.T, c *console, revision string) {
	c.open(t, c.svc.URL+"/ui/matrix")
	c.waitText(t, "#matrix-revision", revision)
	for _, cell := range []struct{ wsType, op, role, want string }{
		{"tenant", "miniprogram:view", "workspace_admin", "✓+"},
		{"tenant", "approval:approve", "workspace_reviewer", "✓+"},
		{"tenant", "miniprogram:create", "workspace_reviewer", "×"},
		{"developer", "miniprogram:update", "developer", "A"},
		{"developer", "miniprogram:update", "operator", "×"},
		{"developer", "request:withdraw", "operator", "own"},
		{"developer", "member:invite", "developer_admin", "✓"},
	} {
		if got := c.text(t, cellSelector(cell.wsType, cell.op, cell.role)); got != cell.want {
			t.Errorf("%s %s %s shows %q, want %q", cell.wsType, cell.op, cell.role, got, cell.want)
		}
	}
	shot := c.screenshot(t, c.shots, "matrix.png")
	writeDocImage(t, "console-matrix.png", shot)

	c.fill(t, "#matrix-filter", "approval:")
	visible := c.eval(t, `String(document.querySelectorAll(`+
		`'section[data-workspace-type="tenant"] tbody tr:not([hidden])').length)`)
	if visible != "3" {
		t.Errorf("filtering on approval: shows %s tenant rows, want 3", visible)
	}
	c.fill(t, "#matrix-filter", "")
}

func cellSelector(wsType, op, role string) string {
	return fmt.Sprintf(`section[data-workspace-type=%q] td[data-op=%q][data-role=%q]`, wsType, op, role)
}

func checkWorkspaceWithoutToken(t *testing.T, c *console) {
	c.open(t, c.svc.URL+"/ui/workspace")
	c.fill(t, "#ws-id", "dw-shop")
	c.click(t, "#load")
	got := c.waitText(t, "#ws-error", "401 unauthenticated")
	if !strings.Contains(got, "enter a bearer token") {
		t.Errorf("the 401 does not say what to do: %q", got)
	}
	if c.eval(t, `String(document.getElementById("members-section").hidden)`) != "true" {
		t.Error("members are shown without a token")
	}

	c.fill(t, "#token", c.otherKeyToken(t))
	c.click(t, "#save-token")
	c.click(t, "#load")
	c.waitText(t, "#ws-error", "The token was refused")
	c.screenshot(t, c.shots, "workspace-401.png")
}

// otherKeyToken is a well-formed token signed with a key the service does not trust.
func (c *console) otherKeyToken(t *testing.T) string {
	t.Helper()
	return authtest.Sign(t, map[string]any{"alg": "RS256", "typ": "JWT"},
		authtest.Claims("u-dana", issuer, audience), c.keys.OtherRSA)
}

func checkWorkspaceWithToken(t *testing.T, c *console) {
	c.fill(t, "#token", c.token(t, "u-bob")) // an admin of another tenant
	c.click(t, "#save-token")
	c.click(t, "#load")
	c.waitText(t, "#ws-error", "403 ")
	c.waitText(t, "#ws-error", "may not list the members")

	token := c.token(t, "u-dana")
	c.fill(t, "#token", token)
	c.click(t, "#save-token")
	c.waitText(t, "#token-state", "a token is set")
	c.click(t, "#load")
	c.waitText(t, "#members-title", "dw-shop: 6 members")
	for user, want := range map[string][]string{
		"u-dev":   {"developer", "active", "mp-1"},
		"u-oscar": {"operator", "active", "mp-1mp-2"},
		"u-bella": {"developer", "blocked", "mp-1"},
		"u-ivy":   {"operator", "invited", "—"},
	} {
		row := fmt.Sprintf(`#members tr[data-user=%q]`, user)
		for i, w := range want {
			if got := c.text(t, fmt.Sprintf("%s td:nth-child(%d)", row, i+2)); !strings.HasPrefix(got, w) {
				t.Errorf("%s column %d = %q, want %q", user, i+2, got, w)
			}
		}
	}
	c.screenshot(t, c.shots, "workspace.png")

	if strings.Contains(c.eval(t, "location.href"), token[:20]) || c.eval(t, "document.cookie") != "" {
		t.Error("the token reached the URL or a cookie")
	}
	if c.eval(t, `sessionStorage.getItem("rolegate.console.token") || ""`) != token {
		t.Error("the token is not in session storage")
	}
	if c.eval(t, `String(localStorage.length)`) != "0" {
		t.Error("the console wrote to local storage")
	}
}

func checkExplorer(t *testing.T, c *console) {
	c.open(t, c.svc.URL+"/ui/explorer")
	ask := func(mp string) {
		t.Helper()
		c.fill(t, "#subject", "u-dev")
		c.fill(t, "#workspace", "dw-shop")
		c.fill(t, "#action", "miniprogram:update")
		c.fill(t, "#resource-id", mp)
		c.fill(t, "#attributes", "")
		c.click(t, "#decide")
	}

	ask("mp-1")
	c.waitText(t, "#answer", "Allowed")
	checkReason(t, c, "granted", "developer of dw-shop grants miniprogram:update")
	c.waitText(t, "#membership-fact", "u-dev is developer of dw-shop, active, assigned mini programs: mp-1")
	checkCurl(t, c, true)
	c.screenshot(t, c.shots, "explorer-allowed.png")

	ask("mp-2")
	c.waitText(t, "#answer", "Denied")
	checkReason(t, c, "not_assigned", "mp-2 is not assigned to u-dev as developer of dw-shop")
	checkCurl(t, c, false)
	shot := c.screenshot(t, c.shots, "explorer-denied.png")
	writeDocImage(t, "console-explorer.png", shot)

	c.fill(t, "#attributes", `{"state": in_review}`)
	c.click(t, "#decide")
	c.waitText(t, "#explorer-error", "attributes are not JSON")
}

func checkReason(t *testing.T, c *console, code, message string) {
	t.Helper()
	c.waitText(t, "#reasons tr:first-child td:first-child", code)
	if got := c.text(t, "#reasons tr:first-child td:nth-child(2)"); !strings.Contains(got, message) {
		t.Errorf("reason message %q, want %q", got, message)
	}
}

// checkCurl runs the request the explorer shows as curl and checks its answer.
func checkCurl(t *testing.T, c *console, allow bool) {
	t.Helper()
	cmd := c.text(t, "#curl")
	_, body, ok := strings.Cut(cmd, "-d '")
	if !strings.HasPrefix(cmd, "curl -s '"+c.svc.URL+"/v1/decisions'") || !ok {
		t.Fatalf("curl command %q", cmd)
	}
	body = strings.ReplaceAll(strings.TrimSuffix(body, "'"), `'\''`, "'")
	resp, err := http.Post(c.svc.URL+"/v1/decisions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if want := fmt.Sprintf(`"allow":%v`, allow); !strings.Contains(string(out), want) {
		t.Errorf("the curl request %s answers %s, want %s", body, out, want)
	}
}

func checkStatusCounts(t *testing.T, c *console) {
	c.open(t, c.svc.URL+"/ui/")
	c.waitFor(t, "decisions to be counted", `Number(`+textOf("#decisions-allowed")+`) >= 2 && Number(`+
		textOf("#decisions-denied")+`) >= 1`)
	c.waitText(t, "#decisions-recent", " allowed, ")
	c.screenshot(t, c.shots, "status-after.png")
}

// checkNewRevision grants operators miniprogram:update in the served policy and waits,
// on the open matrix page, for the new revision and the new cell without a reload.
func checkNewRevision(t *testing.T, c *console, old string) {
	c.open(t, c.svc.URL+"/ui/matrix")
	c.waitText(t, "#matrix-revision", old)
	const role = "\"title\": \"Operator\",\n\t\t\"workspace_type\": \"developer\",\n\t\t\"grants\": {\n"
	model := filepath.Join(c.policy, "rolegate", "model", "model.rego")
	src, err := os.ReadFile(model)
	if err != nil || strings.Count(string(src), role) != 1 {
		t.Fatalf("the model does not declare the operator once: %v", err)
	}
	edited := strings.Replace(string(src), role, role+"\t\t\t\"miniprogram:update\": \"assigned\",\n", 1)
	if err := os.WriteFile(model, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}

	cell := cellSelector("developer", "miniprogram:update", "operator")
	c.waitFor(t, "the new revision's matrix", textOf("#matrix-revision")+" !== "+jsString(old)+
		" && "+textOf(cell)+` === "A"`)
	now, _ := c.status(t)
	if got := c.text(t, "#matrix-revision"); got != now {
		t.Errorf("the matrix shows revision %q, the service has %q", got, now)
	}
	if !strings.Contains(c.eval(t, `document.getElementById("live-revision").className`), "changed") {
		t.Error("the live revision badge does not show the change")
	}
	c.screenshot(t, c.shots, "matrix-new-revision.png")
}

func checkUnknownPage(t *testing.T, c *console) {
	resp, err := chromedp.RunResponse(c.ctx, chromedp.Navigate(c.svc.URL+"/ui/nope"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusNotFound || !strings.Contains(c.pageText(), `"code":"not_found"`) {
		t.Errorf("/ui/nope: %d %s; want 404 in the error shape", resp.Status, c.pageText())
	}
}

// checkConsoleMessages fails on any script error or security (CSP) message. The
// only failed loads allowed are the test's own: the 401s and the 403 of the workspace
// view and the unknown page, and the /favicon.ico Chromium may ask for after showing
// the unknown page, which, being JSON, names no icon.
func checkConsoleMessages(t *testing.T, c *console) {
	t.Helper()
	for _, m := range c.consoleMessages() {
		refused := strings.Contains(m.Text, "401") || strings.Contains(m.Text, "403")
		unknown := strings.HasSuffix(m.URL, "/ui/nope") || strings.HasSuffix(m.URL, "/favicon.ico")
		expected := m.Source == "network" && ((refused && strings.Contains(m.URL, "/members")) || unknown)
		switch {
		case expected:
			t.Logf("console, expected: %s (%s)", m, m.URL)
		case m.IsException(), m.Source == "security", m.Source == "javascript",
			m.Type == chromedp.ConsoleError, m.Type == chromedp.ConsoleWarning:
			t.Errorf("console %s (source %q, %s)", m, m.Source, m.URL)
		default:
			t.Logf("console %s", m)
		}
	}
}

// writeDocImage writes a screenshot the README shows, with -update-screenshots.
func writeDocImage(t *testing.T, name string, png []byte) {
	t.Helper()
	if !*updateScreenshots {
		return
	}
	path := filepath.Join(repoRoot, "docs", "img", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}
