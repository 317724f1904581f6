package gateway

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/auth/authtest"
)

// nginxCase is one request through nginx and what must come of it.
type nginxCase struct {
	name   string
	method string
	target string
	header http.Header
	body   []byte
	// want is nginx's status to the client.
	want int
	// reach is the subject the upstream must receive the request with; "" means the
	// upstream must not see it at all.
	reach string
	// outcome and code are what rolegate's one check of the request logged; "" means
	// nginx refuses the request without asking.
	outcome, code string
}

func TestNginxAuthRequest(t *testing.T) {
	bin := findNginx(t)
	keys := authtest.NewKeys(t)
	rg := startRolegate(t, keys)
	up := newUpstream(t)
	ngx := startNginx(t, bin, rg.httpAddr, up.addr())

	dana, dev := token(t, keys, "u-dana"), token(t, keys, "u-dev")
	for _, tt := range nginxCases(t, keys, dana, dev) {
		t.Run(tt.name, func(t *testing.T) {
			before := rg.checkCount()
			got := send(t, ngx.addr, tt.method, tt.target, tt.header, tt.body)
			if got.status != tt.want {
				t.Errorf("status %d, want %d; body %q", got.status, tt.want, got.body)
			}
			checkArrival(t, up.take(), tt)
			if tt.outcome != "" {
				checkLogged(t, rg, before, tt)
			}
			challenge := got.header.Get("WWW-Authenticate")
			if tt.want == http.StatusUnauthorized && !strings.HasPrefix(challenge, "Bearer") {
				t.Errorf("401 without rolegate's WWW-Authenticate: %q", challenge)
			}
		})
	}

	t.Run("rolegate stopped", func(t *testing.T) {
		rg.kill(t)
		got := send(t, ngx.addr, http.MethodPost, "/api/workspaces/dw-shop/miniprograms",
			bearer(dana), []byte(`{"name":"shop"}`))
		if got.status != http.StatusInternalServerError {
			t.Errorf("status %d, want 500 (auth_request's answer to a failed check); body %q",
				got.status, got.body)
		}
		if seen := up.take(); len(seen) != 0 {
			t.Errorf("the upstream was reached with rolegate stopped: %+v", seen)
		}
	})
	noSecrets(t, rg.log.String(), dana, dev)
	if t.Failed() {
		t.Logf("nginx:\n%s\nrolegate:\n%s", ngx.stderr.String(), rg.log.String())
	}
}

// nginxCases are the requests of TestNginxAuthRequest, tokens signed for u-dana
// (developer_admin of dw-shop) and u-dev (developer of dw-shop, assigned mp-1 only).
func nginxCases(t *testing.T, keys *authtest.Keys, dana, dev string) []nginxCase {
	unknownKey, expired, otherAudience := forgedTokens(t, keys)
	const (
		create  = "/api/workspaces/dw-shop/miniprograms"
		upload1 = "/api/workspaces/dw-shop/miniprograms/mp-1/versions"
		upload2 = "/api/workspaces/dw-shop/miniprograms/mp-2/versions"
		allow   = "allow"
		deny    = "deny"
		invalid = "invalid"
		ok      = http.StatusOK
		refused = http.StatusForbidden
		badReq  = http.StatusBadRequest
	)
	body := []byte(`{"name":"shop"}`)
	spooled := bytes.Repeat([]byte("v"), 512<<10) // above client_body_buffer_size
	return []nginxCase{
		{
			name:   "allowed: u-dana creates a mini program in dw-shop",
			method: "POST", target: create, header: bearer(dana), body: body,
			want: ok, reach: "u-dana", outcome: allow,
		},
		{
			name:   "allowed: the upstream gets the target as sent, query and escapes kept",
			method: "GET", target: "/api/workspaces/dw-shop/miniprograms/mp%2D1/versions?page=2&q=a%2Fb",
			header: bearer(dev),
			want:   ok, reach: "u-dev", outcome: allow,
		},
		{
			name:   "allowed: the client's X-Rolegate-Subject is replaced",
			method: "GET", target: "/api/workspaces/dw-shop/miniprograms/mp-1",
			header: with(bearer(dev), "X-Rolegate-Subject", "u-dana"),
			want:   ok, reach: "u-dev", outcome: allow,
		},
		{
			name:   "allowed: a body nginx spools to a file",
			method: "POST", target: upload1, header: bearer(dev), body: spooled,
			want: ok, reach: "u-dev", outcome: allow,
		},
		{
			name:   "denied: u-dev uploads to mp-2, not assigned",
			method: "POST", target: upload2, header: bearer(dev), body: body,
			want: refused, outcome: deny, code: "not_assigned",
		},
		{
			name:   "denied: u-dana creates in dw-books, another tenant's workspace",
			method: "POST", target: "/api/workspaces/dw-books/miniprograms",
			header: bearer(dana), body: body,
			want: refused, outcome: deny, code: "no_membership",
		},
		{
			name:   "denied: no route",
			method: "GET", target: "/api/internal/metrics", header: bearer(dana),
			want: refused, outcome: deny, code: "no_route",
		},
		{
			name:   "denied: the client's X-Original-URI and -Method are replaced",
			method: "POST", target: upload2, body: body,
			header: with(bearer(dev), "X-Original-URI", upload1, "X-Original-Method", "POST"),
			want:   refused, outcome: deny, code: "not_assigned",
		},
		{
			name:   "denied: the client's Traefik headers are dropped",
			method: "POST", target: upload2, body: body,
			header: with(bearer(dev), "X-Forwarded-Uri", upload1, "X-Forwarded-Method", "POST"),
			want:   refused, outcome: deny, code: "not_assigned",
		},
		{
			name:   "refused: a method-override header",
			method: "GET", target: create, header: with(bearer(dana), "X-HTTP-Method-Override", "DELETE"),
			want: refused, outcome: invalid, code: "invalid_request",
		},
		{
			name:   "refused by nginx: Authorization twice",
			method: "GET", target: create, header: with(bearer(dev), "Authorization", "Bearer "+dana),
			want: badReq,
		},
		unauthenticated("no token", nil),
		unauthenticated("a token signed by an unknown key", bearer(unknownKey)),
		unauthenticated("an expired token", bearer(expired)),
		unauthenticated("a token for another audience", bearer(otherAudience)),
		unauthenticated("a token that is no JWT", bearer("not-a-jwt")),
		ambiguous("//", "/api/workspaces/dw-shop//miniprograms", bearer(dana)),
		ambiguous("%2F", "/api/workspaces%2Fdw-shop/miniprograms", bearer(dana)),
		ambiguous("%2f", "/api/workspaces/dw-shop%2fminiprograms", bearer(dana)),
		ambiguous("/../", "/api/workspaces/dw-books/../dw-shop/miniprograms", bearer(dana)),
		ambiguous("%2e%2e", "/api/workspaces/dw-books/%2e%2e/dw-shop/miniprograms", bearer(dana)),
		ambiguous(";", "/api/workspaces/dw-shop/miniprograms;x=1", bearer(dana)),
		{
			name:   "refused by nginx: %00",
			method: "POST", target: create + "%00", header: bearer(dana), body: body,
			want: badReq,
		},
		{
			name:   "refused by nginx: .. above the root",
			method: "GET", target: "/api/../../api/workspaces/dw-shop", header: bearer(dana),
			want: badReq,
		},
		{
			name:   "outside /api/: nginx's own 404",
			method: "GET", target: "/workspaces/dw-shop", header: bearer(dana),
			want: http.StatusNotFound,
		},
	}
}

// forgedTokens returns tokens for u-dana that must not verify: signed by a key
// rolegate does not know, expired, and for another audience.
func forgedTokens(t *testing.T, keys *authtest.Keys) (unknownKey, expired, otherAudience string) {
	t.Helper()
	header := map[string]any{"alg": "RS256", "kid": "test"}
	claims := func(edit func(map[string]any)) map[string]any {
		c := authtest.Claims("u-dana", issuer, audience)
		edit(c)
		return c
	}
	unknownKey = authtest.Sign(t, header, claims(func(map[string]any) {}), keys.OtherRSA)
	expired = authtest.Sign(t, header, claims(func(c map[string]any) {
		c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
	}), keys.RSA)
	otherAudience = authtest.Sign(t, header, claims(func(c map[string]any) {
		c["aud"] = "elsewhere"
	}), keys.RSA)
	return unknownKey, expired, otherAudience
}

// unauthenticated is a case of creating a mini program without a valid identity.
func unauthenticated(name string, h http.Header) nginxCase {
	return nginxCase{
		name: name, method: "POST", target: "/api/workspaces/dw-shop/miniprograms", header: h,
		want: http.StatusUnauthorized, outcome: "unauthenticated", code: "unauthenticated",
	}
}

// ambiguous is a case of a path rolegate refuses to read, by a subject whom the plain
// form would be allowed.
func ambiguous(what, target string, h http.Header) nginxCase {
	return nginxCase{
		name: "ambiguous: " + what, method: "POST", target: target, header: h,
		want: http.StatusForbidden, outcome: "invalid", code: "invalid_path",
	}
}

// checkArrival checks what the upstream saw of one request.
func checkArrival(t *testing.T, seen []arrival, tt nginxCase) {
	t.Helper()
	if tt.reach == "" {
		if len(seen) != 0 {
			t.Errorf("the upstream was reached: %+v", seen)
		}
		return
	}
	want := []arrival{{
		Method: tt.method, URI: tt.target, Subjects: []string{tt.reach}, BodyBytes: len(tt.body),
	}}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("the upstream saw (-want +got):\n%s", diff)
	}
}

// checkLogged waits for rolegate's log line of the case's one check.
func checkLogged(t *testing.T, rg *rolegate, before int, tt nginxCase) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	checks := rg.checksSince(before)
	for len(checks) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		checks = rg.checksSince(before)
	}
	if len(checks) != 1 {
		t.Fatalf("rolegate logged %d checks, want 1: %+v", len(checks), checks)
	}
	c := checks[0]
	if c.Outcome != tt.outcome || (tt.code != "" && !slices.Contains(c.Reasons, tt.code)) {
		t.Errorf("rolegate decided %s %v, want %s %s", c.Outcome, c.Reasons, tt.outcome, tt.code)
	}
	if path, _, _ := strings.Cut(tt.target, "?"); c.Method != tt.method || c.Path != path {
		t.Errorf("rolegate checked %s %s, want %s %s", c.Method, c.Path, tt.method, path)
	}
}

// bearer returns an Authorization header with the token.
func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// with returns a copy of h with the header names and values kv added.
func with(h http.Header, kv ...string) http.Header {
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}
