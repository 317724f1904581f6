package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/auth"
	"github.com/rolegate/rolegate/internal/auth/authtest"
	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/config"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/members"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/metrics"
	"github.com/rolegate/rolegate/internal/server"
)

const (
	testIssuer   = "https://idp.rolegate.test"
	testAudience = "rolegate"
	serviceToken = "platform-back-end-token-0123456789abcdef"
)

// adminFixture is a server with the membership API over the example memberships.
type adminFixture struct {
	srv   *server.Server
	keys  *authtest.Keys
	store *memory.Store
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	keys := authtest.NewKeys(t)
	tokenFile := filepath.Join(t.TempDir(), "service-token")
	if err := os.WriteFile(tokenFile, []byte(serviceToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(auth.Config{
		JWT: auth.JWTConfig{
			Issuer: testIssuer, Audience: testAudience,
			Keys: []auth.KeyConfig{{Algorithm: "RS256", File: keys.RSAFile}},
		},
		ServiceToken: auth.ServiceTokenConfig{File: tokenFile},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := exampleWorld(t)
	store := w.store.(*memory.Store)
	svc := authz.NewService(engine.New(w.policy), store)
	srv := server.New(server.Options{
		Service: svc, Store: store, StoreKind: "memory", Limits: config.Default().Limits,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: metrics.New(),
		Members: members.New(store, svc, nil), Auth: authn,
	})
	return &adminFixture{srv: srv, keys: keys, store: store}
}

// bearer returns an Authorization value for a valid token of the user.
func (f *adminFixture) bearer(t *testing.T, user string) string {
	t.Helper()
	claims := authtest.Claims(user, testIssuer, testAudience)
	return "Bearer " + authtest.Sign(t, map[string]any{"alg": "RS256", "typ": "JWT"}, claims, f.keys.RSA)
}

func (f *adminFixture) do(method, target, body, authorization string) (int, string) {
	var header []string
	if authorization != "" {
		header = []string{"Authorization", authorization}
	}
	ct := ""
	if body != "" {
		ct = jsonType
	}
	rec := call(f.srv.Handler(), method, target, ct, body, header...)
	return rec.Code, rec.Body.String()
}

func TestMembershipAPI(t *testing.T) {
	f := newAdminFixture(t)
	dana, dev, newUser := f.bearer(t, "u-dana"), f.bearer(t, "u-dev"), f.bearer(t, "u-new")
	steps := []struct {
		name, method, target, body, authorization string
		wantStatus                                int
	}{
		{"list", "GET", "/v1/workspaces/dw-shop/members", "", dana, 200},
		{"invite", "POST", "/v1/workspaces/dw-shop/invitations", `{"user":"u-new","role":"operator","miniprograms":["mp-1"]}`, dana, 201},
		{"invite again", "POST", "/v1/workspaces/dw-shop/invitations", `{"user":"u-new","role":"operator"}`, dana, 409},
		{"resend", "POST", "/v1/workspaces/dw-shop/invitations/u-new/resend", "", dana, 200},
		{"accept for someone else", "POST", "/v1/workspaces/dw-shop/invitations/u-new/accept", "", dev, 403},
		{"accept", "POST", "/v1/workspaces/dw-shop/invitations/u-new/accept", "", newUser, 200},
		{"withdraw an accepted one", "DELETE", "/v1/workspaces/dw-shop/invitations/u-new", "", dana, 409},
		{"assign a role", "PUT", "/v1/workspaces/dw-shop/members/u-new/role", `{"role":"developer","miniprograms":["mp-2"]}`, dana, 200},
		{"assign a tenant role", "PUT", "/v1/workspaces/dw-shop/members/u-new/role", `{"role":"workspace_admin"}`, dana, 403},
		{"block", "POST", "/v1/workspaces/dw-shop/members/u-new/block", "", dana, 200},
		{"block again", "POST", "/v1/workspaces/dw-shop/members/u-new/block", "", dana, 409},
		{"unblock", "POST", "/v1/workspaces/dw-shop/members/u-new/unblock", "", dana, 200},
		{"a developer blocks", "POST", "/v1/workspaces/dw-shop/members/u-new/block", "", dev, 403},
		{"block oneself", "POST", "/v1/workspaces/dw-shop/members/u-dana/block", "", dana, 403},
		{"remove", "DELETE", "/v1/workspaces/dw-shop/members/u-new", "", dana, 200},
		{"remove again", "DELETE", "/v1/workspaces/dw-shop/members/u-new", "", dana, 404},
		{"invite and withdraw", "POST", "/v1/workspaces/dw-shop/invitations", `{"user":"u-w","role":"operator"}`, dana, 201},
		{"withdraw", "DELETE", "/v1/workspaces/dw-shop/invitations/u-w", "", dana, 200},
		{"unknown workspace", "GET", "/v1/workspaces/dw-none/members", "", dana, 403},
		{"bad body", "POST", "/v1/workspaces/dw-shop/invitations", `{"user":"u-x","role":"operator","admin":true}`, dana, 400},
		{"missing user", "POST", "/v1/workspaces/dw-shop/invitations", `{"role":"operator"}`, dana, 400},
		{"a user creates a workspace", "POST", "/v1/workspaces", `{"id":"tw-x","type":"tenant","admins":[{"user":"u-x"}]}`, dana, 403},
		{
			"the back end creates a workspace", "POST", "/v1/workspaces",
			`{"id":"dw-new","type":"developer","tenant":"tw-alpha","admins":[{"user":"u-owner"}]}`, "Bearer " + serviceToken, 201,
		},
		{
			"the back end creates it again", "POST", "/v1/workspaces",
			`{"id":"dw-new","type":"developer","tenant":"tw-alpha","admins":[{"user":"u-owner"}]}`, "Bearer " + serviceToken, 409,
		},
		{"the back end manages members", "GET", "/v1/workspaces/dw-shop/members", "", "Bearer " + serviceToken, 403},
		{
			"a developer workspace as the tenant", "POST", "/v1/workspaces",
			`{"id":"dw-sub","type":"developer","tenant":"dw-shop","admins":[{"user":"u-z"}]}`,
			"Bearer " + serviceToken, 400,
		},
		{
			"a workspace id that is no path segment", "POST", "/v1/workspaces",
			`{"id":"tw/x y","type":"tenant","admins":[{"user":"u-z"}]}`, "Bearer " + serviceToken, 400,
		},
		{"invite for the refusals", "POST", "/v1/workspaces/dw-shop/invitations", `{"user":"u-r","role":"operator"}`, dana, 201},
		{"a developer resends", "POST", "/v1/workspaces/dw-shop/invitations/u-r/resend", "", dev, 403},
		{"a developer withdraws", "DELETE", "/v1/workspaces/dw-shop/invitations/u-r", "", dev, 403},
		{"a developer assigns", "PUT", "/v1/workspaces/dw-shop/members/u-oscar/role", `{"role":"developer"}`, dev, 403},
		{"a developer unblocks", "POST", "/v1/workspaces/dw-shop/members/u-oscar/unblock", "", dev, 403},
		{"a developer removes", "DELETE", "/v1/workspaces/dw-shop/members/u-oscar", "", dev, 403},
		{"assign no role", "PUT", "/v1/workspaces/dw-shop/members/u-oscar/role", `{}`, dana, 400},
		{"assign a role of the wrong type", "PUT", "/v1/workspaces/dw-shop/members/u-oscar/role", `{"role":7}`, dana, 400},
		{"assign oneself", "PUT", "/v1/workspaces/dw-shop/members/u-dana/role", `{"role":"developer"}`, dana, 403},
		{"remove oneself", "DELETE", "/v1/workspaces/dw-shop/members/u-dana", "", dana, 403},
		{"resend without a token", "POST", "/v1/workspaces/dw-shop/invitations/u-r/resend", "", "", 401},
	}
	for _, s := range steps {
		status, body := f.do(s.method, s.target, s.body, s.authorization)
		if status != s.wantStatus {
			t.Fatalf("%s: status %d, want %d: %s", s.name, status, s.wantStatus, body)
		}
		if status >= 400 && !strings.Contains(body, `"error":{"code":"`) {
			t.Fatalf("%s: %s is not in the error shape", s.name, body)
		}
		if status < 300 && !strings.Contains(body, `"revision":"`) {
			t.Fatalf("%s: %s carries no revision", s.name, body)
		}
	}
}

// TestMembershipWriteIsSeenByTheNextDecision: a write's revision is its consistency
// token, and a decision asking for it sees the write.
func TestMembershipWriteIsSeenByTheNextDecision(t *testing.T) {
	f := newAdminFixture(t)
	status, body := f.do("POST", "/v1/workspaces/dw-shop/members/u-dev/block", "", f.bearer(t, "u-dana"))
	if status != 200 {
		t.Fatalf("block: %d %s", status, body)
	}
	rev := between(body, `"revision":"`, `"`)
	req := `{"subject":"u-dev","action":"miniprogram:view","resource":{"workspace":"dw-shop","id":"mp-1"},` +
		`"consistency":{"at_least":"` + rev + `"}}`
	rec := call(f.srv.Handler(), "POST", "/v1/decisions", jsonType, req)
	if !strings.Contains(rec.Body.String(), `"allow":false`) || !strings.Contains(rec.Body.String(), `"membership":"`+rev+`"`) {
		t.Fatalf("decision after the block: %s", rec.Body)
	}
	future := strings.Replace(req, `"at_least":"`+rev+`"`, `"at_least":"999999"`, 1)
	rec = call(f.srv.Handler(), "POST", "/v1/decisions", jsonType, future)
	if !strings.Contains(rec.Body.String(), authz.CodeStaleMembership) {
		t.Fatalf("a revision not reached: %s", rec.Body)
	}
}

func between(s, start, end string) string {
	_, after, _ := strings.Cut(s, start)
	v, _, _ := strings.Cut(after, end)
	return v
}

// TestAdministrativeRoutesRequireAuthentication sends every route of the router a
// request without credentials, and with each kind of bad one. Every route that is not
// public by design must answer 401; a new administrative route without authentication
// fails here.
func TestAdministrativeRoutesRequireAuthentication(t *testing.T) {
	f := newAdminFixture(t)
	public := map[string]bool{
		"POST /v1/decisions": true, "POST /v1/decisions/batch": true,
		"GET /v1/permissions": true, "GET /v1/matrix": true, "GET /ui": true, "GET /ui/*path": true,
		"POST /access/v1/evaluation": true, "POST /access/v1/evaluations": true,
		"GET /.well-known/authzen-configuration": true, "POST /v1/data/*path": true,
		"GET /healthz": true, "GET /readyz": true, "GET /metrics": true, "GET /v1/status": true,
	}
	claims := func(mod func(map[string]any)) map[string]any {
		c := authtest.Claims("u-dana", testIssuer, testAudience)
		mod(c)
		return c
	}
	rs256 := map[string]any{"alg": "RS256", "typ": "JWT"}
	credentials := map[string]string{
		"none":           "",
		"expired":        "Bearer " + authtest.Sign(t, rs256, claims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), f.keys.RSA),
		"wrong issuer":   "Bearer " + authtest.Sign(t, rs256, claims(func(c map[string]any) { c["iss"] = "https://evil.test" }), f.keys.RSA),
		"wrong audience": "Bearer " + authtest.Sign(t, rs256, claims(func(c map[string]any) { c["aud"] = "someone-else" }), f.keys.RSA),
		"wrong key":      "Bearer " + authtest.Sign(t, rs256, claims(func(map[string]any) {}), f.keys.OtherRSA),
		"alg none": "Bearer " + authtest.Encode(t, map[string]any{"alg": "none", "typ": "JWT"}) + "." +
			authtest.Encode(t, claims(func(map[string]any) {})) + ".",
		"not bearer": "Basic dTpw",
	}
	routes := f.srv.Routes()
	admin := 0
	for _, r := range routes {
		key := r.Method + " " + r.Path
		if public[key] {
			continue
		}
		admin++
		target := strings.NewReplacer(":workspace", "dw-shop", ":user", "u-dev", "*path", "x").Replace(r.Path)
		for name, cred := range credentials {
			status, body := f.do(r.Method, target, `{}`, cred)
			if status != http.StatusUnauthorized || !strings.Contains(body, `"code":"unauthenticated"`) {
				t.Errorf("%s with %s credential: %d %s, want 401", key, name, status, body)
			}
		}
	}
	if admin != len(f.srv.AdminRoutes()) {
		t.Errorf("%d routes are neither public nor administrative: %v", admin-len(f.srv.AdminRoutes()), routes)
	}
	if admin < 10 {
		t.Fatalf("only %d administrative routes found", admin)
	}
	t.Logf("%d administrative routes × %d bad credentials: all 401", admin, len(credentials))
}
