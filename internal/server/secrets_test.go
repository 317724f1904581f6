package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/auth/authtest"
)

// secretSet is what a request carries that no log may repeat.
type secretSet struct {
	name string
	// header holds Authorization (when set), Cookie, Proxy-Authorization and an API key.
	header []string
	// secrets are the strings to look for: whole tokens and their signature and
	// payload segments.
	secrets []string
}

// TestNoSecretInLogs runs every route of the router, through the http.Server of
// rolegate serve, with credentials valid and invalid (user and gateway JWTs, the
// service token and near misses of it, cookies, Proxy-Authorization, an API key, a
// token in the query), on answers that succeed and on every kind of error path. No
// line of the service log, at debug level, nor of the decision log may hold any of
// those secrets or a segment of them.
func TestNoSecretInLogs(t *testing.T) {
	f := newAdminFixture(t)
	base := "http://" + listen(t, f)
	client := &http.Client{Timeout: 10 * time.Second}
	sets := secretSets(t, f)
	requests := 0
	for _, r := range routesOf(t, f.srv) {
		for i, set := range sets {
			for _, v := range secretVariants(r, set, i == 0) {
				requests++
				send(t, client, base, v)
			}
		}
	}
	logs, decisions := f.logs.String(), f.decisions.String()
	for _, evidence := range []string{"gateway check", "request refused"} {
		if !strings.Contains(logs, evidence) {
			t.Fatalf("the service log has no %q line: the test would prove nothing", evidence)
		}
	}
	if strings.Count(decisions, `"msg":"decision"`) < requests/10 {
		t.Fatalf("the decision log holds too few decisions: the test would prove nothing")
	}
	found := 0
	for _, set := range sets {
		for _, secret := range set.secrets {
			for name, log := range map[string]string{"service log": logs, "decision log": decisions} {
				if i := strings.Index(log, secret); i >= 0 {
					found++
					t.Errorf("the %s holds %s's secret %q: %s", name, set.name, secret, lineAt(log, i))
				}
			}
		}
	}
	t.Logf("%d requests with %d kinds of credential; %d secrets sought in %d bytes of logs: %d found",
		requests, len(sets), countSecrets(sets), len(logs)+len(decisions), found)
}

// secretVariant is one request to send.
type secretVariant struct {
	method, target, contentType, body string
	header                            []string
}

// secretVariants returns the requests of the route with the set's headers: as the
// route is served, with a token in the query, and on error paths: a wrong method, an
// unknown neighbour, a malformed body, a wrong content type and, when large is true,
// a body over the limit.
func secretVariants(r route, set secretSet, large bool) []secretVariant {
	body, ct := r.spec.body, ""
	if body != "" {
		ct = jsonType
	}
	header := append(append([]string{}, r.spec.header...), set.header...)
	if !r.spec.public && !hasHeader(set.header, "Authorization") {
		header = append(header, "Authorization", "Bearer "+serviceToken)
	}
	sep := "?"
	if strings.Contains(r.spec.target, "?") {
		sep = "&"
	}
	out := []secretVariant{
		{r.Method, r.spec.target, ct, body, header},
		{r.Method, r.spec.target + sep + "access_token=" + querySecret, ct, body, header},
		{r.Method, r.spec.target + "/nowhere?token=" + querySecret, ct, body, header},
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		out = append(out,
			secretVariant{r.Method, r.spec.target, jsonType, `{"x":`, header},
			secretVariant{r.Method, r.spec.target, "text/plain", body, header},
			secretVariant{http.MethodPatch, r.spec.target, ct, body, header},
		)
		if large {
			oversized := strings.Repeat(" ", bodyLimit+1)
			out = append(out, secretVariant{r.Method, r.spec.target, jsonType, oversized, header})
		}
	}
	return out
}

// querySecret is a token sent in query strings, which no log may repeat.
const querySecret = "qs-secret-7f3e9a1c5b2d4e6f"

// secretSets returns the credentials to send: each with cookies, Proxy-Authorization
// and an API key of its own.
func secretSets(t testing.TB, f *adminFixture) []secretSet {
	t.Helper()
	rs256 := map[string]any{"alg": "RS256", "typ": "JWT"}
	expired := authtest.Claims("u-dana", testIssuer, testAudience)
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	tokens := []struct{ name, authorization, token string }{
		{"a user's valid JWT", "Bearer ", f.token(t, "u-dana")},
		{"a gateway user's valid JWT", "Bearer ", f.token(t, "u-dev")},
		{"a JWT signed with another key", "Bearer ", authtest.Sign(t, rs256,
			authtest.Claims("u-dana", testIssuer, testAudience), f.keys.OtherRSA)},
		{"an expired JWT", "Bearer ", authtest.Sign(t, rs256, expired, f.keys.RSA)},
		{"the service token", "Bearer ", serviceToken},
		{"a near miss of the service token", "Bearer ", flipByte(serviceToken, 7)},
		{"a malformed token", "Bearer ", "mal.formed-token-5c1d"},
		{"basic credentials", "Basic ", "dS1kYW5hOnMzY3JldC1wYXNzd29yZA"},
		{"no Authorization", "", ""},
	}
	var sets []secretSet
	for i, tok := range tokens {
		cookie, proxy, apiKey := unique("cookie", i), unique("proxy", i), unique("apikey", i)
		set := secretSet{
			name: tok.name,
			header: []string{
				"Cookie", "session=" + cookie + "; theme=dark",
				"Proxy-Authorization", "Basic " + proxy,
				"X-Api-Key", apiKey,
			},
			secrets: []string{cookie, proxy, apiKey, querySecret},
		}
		if tok.token != "" {
			set.header = append(set.header, "Authorization", tok.authorization+tok.token)
			set.secrets = append(set.secrets, tokenSecrets(tok.token)...)
		}
		sets = append(sets, set)
	}
	return sets
}

// tokenSecrets returns the token and, for a JWT, its payload and signature segments
// (the header segment is the same in every token of its algorithm).
func tokenSecrets(token string) []string {
	out := []string{token}
	if parts := strings.Split(token, "."); len(parts) == 3 {
		for _, p := range parts[1:] {
			if len(p) >= 8 {
				out = append(out, p)
			}
		}
	}
	return out
}

func unique(kind string, i int) string {
	return kind + "-secret-" + strings.Repeat(string(rune('a'+i)), 6) + "-0d9e8f"
}

func countSecrets(sets []secretSet) int {
	n := 0
	for _, s := range sets {
		n += len(s.secrets)
	}
	return n
}

func hasHeader(header []string, name string) bool {
	for i := 0; i < len(header); i += 2 {
		if strings.EqualFold(header[i], name) {
			return true
		}
	}
	return false
}

// send sends one request and drops the answer; only the logs matter here.
func send(t *testing.T, client *http.Client, base string, v secretVariant) {
	t.Helper()
	req, err := http.NewRequest(v.method, base+v.target, strings.NewReader(v.body))
	if err != nil {
		t.Fatal(err)
	}
	if v.contentType != "" {
		req.Header.Set("Content-Type", v.contentType)
	}
	for i := 0; i+1 < len(v.header); i += 2 {
		req.Header.Add(v.header[i], v.header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", v.method, v.target, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// lineAt returns the line of s around index i.
func lineAt(s string, i int) string {
	start := strings.LastIndexByte(s[:i], '\n') + 1
	end := strings.IndexByte(s[i:], '\n')
	if end < 0 {
		return s[start:]
	}
	return s[start : i+end]
}
