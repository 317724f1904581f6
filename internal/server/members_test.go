package server_test

import (
	"crypto/x509"
	"encoding/pem"
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
	"github.com/rolegate/rolegate/internal/decisionlog"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/gateway"
	"github.com/rolegate/rolegate/internal/members"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/metrics"
	"github.com/rolegate/rolegate/internal/server"
	"github.com/rolegate/rolegate/test/servetest"
)

const (
	testIssuer   = "https://idp.rolegate.test"
	testAudience = "rolegate"
	serviceToken = "platform-back-end-token-0123456789abcdef"
)

// adminFixture is a server with every part on over the example memberships: the
// membership API with its authentication, the gateway routes (bearer JWTs signed with
// the same key), metrics, a service log at debug level and a decision log, both kept.
type adminFixture struct {
	srv   *server.Server
	keys  *authtest.Keys
	store membership.Store
	// logs is the service log; decisions the decision log.
	logs, decisions *servetest.Buffer
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	w := exampleWorld(t)
	return newFixtureOn(t, w.policy, w.store.(*memory.Store))
}

// newFixtureOn builds an adminFixture deciding with p over store.
func newFixtureOn(t testing.TB, p *engine.Policy, store membership.Store) *adminFixture {
	t.Helper()
	f := &adminFixture{keys: authtest.NewKeys(t), store: store, logs: &servetest.Buffer{}, decisions: &servetest.Buffer{}}
	tokenFile := filepath.Join(t.TempDir(), "service-token")
	if err := os.WriteFile(tokenFile, []byte(serviceToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	jwtConfig := auth.JWTConfig{
		Issuer: testIssuer, Audience: testAudience,
		Keys: []auth.KeyConfig{{Algorithm: "RS256", File: f.keys.RSAFile}},
	}
	authn, err := auth.New(auth.Config{JWT: jwtConfig, ServiceToken: auth.ServiceTokenConfig{File: tokenFile}})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := metrics.New()
	svc := authz.NewService(engine.New(p), store, authz.WithRecorder(m),
		authz.WithRecorder(decisionlog.New(f.decisions)))
	// A timeout far above the default, so that a loaded machine running -race does not
	// turn a check into a timeout.
	gw, err := gateway.New(gateway.Config{JWT: jwtConfig, Timeout: 5 * time.Second}, svc, logger)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = server.New(server.Options{
		Service: svc, Store: store, StoreKind: "memory", Limits: config.Default().Limits,
		Logger: logger, Metrics: m, Members: members.New(store, svc, nil), Auth: authn, Gateway: gw,
	})
	return f
}

// token returns a valid RS256 token of the user.
func (f *adminFixture) token(t testing.TB, user string) string {
	t.Helper()
	claims := authtest.Claims(user, testIssuer, testAudience)
	return authtest.Sign(t, map[string]any{"alg": "RS256", "typ": "JWT"}, claims, f.keys.RSA)
}

// bearer returns an Authorization value for a valid token of the user.
func (f *adminFixture) bearer(t testing.TB, user string) string {
	t.Helper()
	return "Bearer " + f.token(t, user)
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
		{
			"invite", "POST", "/v1/workspaces/dw-shop/invitations",
			`{"user":"u-new","role":"operator","miniprograms":["mp-1"]}`, dana, 201,
		},
		{"invite again", "POST", "/v1/workspaces/dw-shop/invitations", `{"user":"u-new","role":"operator"}`, dana, 409},
		{"resend", "POST", "/v1/workspaces/dw-shop/invitations/u-new/resend", "", dana, 200},
		{"accept for someone else", "POST", "/v1/workspaces/dw-shop/invitations/u-new/accept", "", dev, 403},
		{"accept", "POST", "/v1/workspaces/dw-shop/invitations/u-new/accept", "", newUser, 200},
		{"withdraw an accepted one", "DELETE", "/v1/workspaces/dw-shop/invitations/u-new", "", dana, 409},
		{
			"assign a role", "PUT", "/v1/workspaces/dw-shop/members/u-new/role",
			`{"role":"developer","miniprograms":["mp-2"]}`, dana, 200,
		},
		{
			"assign a tenant role", "PUT", "/v1/workspaces/dw-shop/members/u-new/role",
			`{"role":"workspace_admin"}`, dana, 403,
		},
		{"block", "POST", "/v1/workspaces/dw-shop/members/u-new/block", "", dana, 200},
		{"block again", "POST", "/v1/workspaces/dw-shop/members/u-new/block", "", dana, 409},
		{"unblock", "POST", "/v1/workspaces/dw-shop/members/u-new/unblock", "", dana, 200},
		{"a developer blocks", "POST", "/v1/workspaces/dw-shop/members/u-new/block", "", dev, 403},
		{"block oneself", "POST", "/v1/workspaces/dw-shop/members/u-dana/block", "", dana, 403},
		{"remove", "DELETE", "/v1/workspaces/dw-shop/members/u-new", "", dana, 200},
		{"remove again", "DELETE", "/v1/workspaces/dw-shop/members/u-new", "", dana, 404},
		{
			"invite and withdraw", "POST", "/v1/workspaces/dw-shop/invitations",
			`{"user":"u-w","role":"operator"}`, dana, 201,
		},
		{"withdraw", "DELETE", "/v1/workspaces/dw-shop/invitations/u-w", "", dana, 200},
		{"unknown workspace", "GET", "/v1/workspaces/dw-none/members", "", dana, 403},
		{
			"bad body", "POST", "/v1/workspaces/dw-shop/invitations",
			`{"user":"u-x","role":"operator","admin":true}`, dana, 400,
		},
		{"missing user", "POST", "/v1/workspaces/dw-shop/invitations", `{"role":"operator"}`, dana, 400},
		{
			"a user creates a workspace", "POST", "/v1/workspaces",
			`{"id":"tw-x","type":"tenant","admins":[{"user":"u-x"}]}`, dana, 403,
		},
		{
			"the back end creates a workspace", "POST", "/v1/workspaces",
			`{"id":"dw-new","type":"developer","tenant":"tw-alpha","admins":[{"user":"u-owner"}]}`,
			"Bearer " + serviceToken, 201,
		},
		{
			"the back end creates it again", "POST", "/v1/workspaces",
			`{"id":"dw-new","type":"developer","tenant":"tw-alpha","admins":[{"user":"u-owner"}]}`,
			"Bearer " + serviceToken, 409,
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
		{
			"invite for the refusals", "POST", "/v1/workspaces/dw-shop/invitations",
			`{"user":"u-r","role":"operator"}`, dana, 201,
		},
		{"a developer resends", "POST", "/v1/workspaces/dw-shop/invitations/u-r/resend", "", dev, 403},
		{"a developer withdraws", "DELETE", "/v1/workspaces/dw-shop/invitations/u-r", "", dev, 403},
		{"a developer assigns", "PUT", "/v1/workspaces/dw-shop/members/u-oscar/role", `{"role":"developer"}`, dev, 403},
		{"a developer unblocks", "POST", "/v1/workspaces/dw-shop/members/u-oscar/unblock", "", dev, 403},
		{"a developer removes", "DELETE", "/v1/workspaces/dw-shop/members/u-oscar", "", dev, 403},
		{"assign no role", "PUT", "/v1/workspaces/dw-shop/members/u-oscar/role", `{}`, dana, 400},
		{
			"assign a role of the wrong type", "PUT", "/v1/workspaces/dw-shop/members/u-oscar/role",
			`{"role":7}`, dana, 400,
		},
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
	if got := rec.Body.String(); !strings.Contains(got, `"allow":false`) ||
		!strings.Contains(got, `"membership":"`+rev+`"`) {
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

// TestAdministrativeRoutesRequireAuthentication sends every route of the router that
// is not public by design (see routeSpecs) a request without a credential and with
// each kind of bad one: every answer must be 401 in the error shape. A new
// administrative route without authentication fails here; a valid credential of the
// route's caller must get past authentication, so that the 401s prove something.
func TestAdministrativeRoutesRequireAuthentication(t *testing.T) {
	f := newAdminFixture(t)
	credentials := badCredentials(t, f)
	attempts, admin := 0, 0
	for _, r := range routesOf(t, f.srv) {
		if r.spec.public {
			continue
		}
		admin++
		for _, c := range credentials {
			attempts++
			req := f.request(t, r, `{}`)
			req.Header.Del("Authorization")
			for _, v := range c.values {
				req.Header.Add("Authorization", v)
			}
			rec := serve(f.srv.Handler(), req)
			if code, err := errorCode(rec.Body.Bytes()); rec.Code != http.StatusUnauthorized ||
				err != nil || code != "unauthenticated" {
				t.Errorf("%s %s with %s: %d %s, want 401 unauthenticated",
					r.Method, r.Path, c.name, rec.Code, rec.Body)
			}
		}
		if rec := serve(f.srv.Handler(), f.request(t, r, "")); rec.Code == http.StatusUnauthorized {
			t.Errorf("%s %s with %s's valid credential: 401 %s", r.Method, r.Path, r.spec.caller, rec.Body)
		}
	}
	if admin < 10 {
		t.Fatalf("only %d administrative routes found", admin)
	}
	t.Logf("%d administrative routes × %d bad credentials: %d attempts, all 401", admin, len(credentials), attempts)
}

// credential is a named set of Authorization header values.
type credential struct {
	name   string
	values []string
}

// badCredentials returns every kind of credential that must not authenticate: none,
// JWTs that fail each check, forged and malformed ones, and near misses of the
// service token.
func badCredentials(t testing.TB, f *adminFixture) []credential {
	t.Helper()
	rs256, hs256 := map[string]any{"alg": "RS256", "typ": "JWT"}, map[string]any{"alg": "HS256", "typ": "JWT"}
	claims := func(mod func(map[string]any)) map[string]any {
		c := authtest.Claims("u-dana", testIssuer, testAudience)
		mod(c)
		return c
	}
	signed := func(mod func(map[string]any)) string {
		return authtest.Sign(t, rs256, claims(mod), f.keys.RSA)
	}
	hour := time.Hour
	valid := f.token(t, "u-dana")
	header, payload, signature := splitJWT(valid)
	none := authtest.Encode(t, map[string]any{"alg": "none", "typ": "JWT"})
	forged := authtest.Encode(t, claims(func(c map[string]any) { c["sub"] = "u-ann" }))
	der, err := x509.MarshalPKIXPublicKey(&f.keys.RSA.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	bearer := func(name, token string) credential { return credential{name, []string{"Bearer " + token}} }
	return []credential{
		{"none", nil},
		bearer("expired", signed(func(c map[string]any) { c["exp"] = time.Now().Add(-hour).Unix() })),
		bearer("not yet valid", signed(func(c map[string]any) { c["nbf"] = time.Now().Add(hour).Unix() })),
		bearer("issued in the future", signed(func(c map[string]any) { c["iat"] = time.Now().Add(hour).Unix() })),
		bearer("without exp", signed(func(c map[string]any) { delete(c, "exp") })),
		bearer("without sub", signed(func(c map[string]any) { delete(c, "sub") })),
		bearer("wrong issuer", signed(func(c map[string]any) { c["iss"] = "https://evil.test" })),
		bearer("wrong audience", signed(func(c map[string]any) { c["aud"] = "someone-else" })),
		bearer("wrong key", authtest.Sign(t, rs256, claims(func(map[string]any) {}), f.keys.OtherRSA)),
		bearer("alg none", none+"."+payload+"."),
		bearer("alg none with a signature", none+"."+payload+"."+signature),
		bearer("HS256 with the RSA public key (PEM)", authtest.Sign(t, hs256, claims(func(map[string]any) {}), pemKey)),
		bearer("HS256 with the RSA public key (DER)", authtest.Sign(t, hs256, claims(func(map[string]any) {}), der)),
		bearer("claims changed under a valid signature", header+"."+forged+"."+signature),
		bearer("signature with one byte changed", header+"."+payload+"."+flipByte(signature, len(signature)/2)),
		bearer("signature missing", header+"."+payload+"."),
		bearer("two segments", header+"."+payload),
		bearer("not base64", "!!!."+payload+"."+signature),
		bearer("too long", valid+strings.Repeat("A", 9<<10)),
		bearer("service token with its first byte changed", flipByte(serviceToken, 0)),
		bearer("service token with a middle byte changed", flipByte(serviceToken, len(serviceToken)/2)),
		bearer("service token with its last byte changed", flipByte(serviceToken, len(serviceToken)-1)),
		bearer("service token cut short", serviceToken[:len(serviceToken)-1]),
		bearer("service token with a byte more", serviceToken+"0"),
		{"service token without Bearer", []string{serviceToken}},
		{"not bearer", []string{"Basic dTpw"}},
		{"bearer without a token", []string{"Bearer "}},
		{"bearer with two tokens", []string{"Bearer " + valid + " " + valid}},
		{"a valid token repeated", []string{"Bearer " + valid, "Bearer " + valid}},
		{"a bad token before a valid one", []string{"Bearer x.y.z", "Bearer " + valid}},
	}
}

// splitJWT returns the three segments of a compact JWS.
func splitJWT(token string) (header, payload, signature string) {
	parts := strings.SplitN(token, ".", 3)
	return parts[0], parts[1], parts[2]
}

// flipByte returns s with the byte at i replaced by another letter or digit of
// base64url, so that the result stays well formed.
func flipByte(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
