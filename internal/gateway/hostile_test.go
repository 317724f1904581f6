package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/rolegate/rolegate/internal/auth/authtest"
	"github.com/rolegate/rolegate/test/servetest"
)

// maxCheckTime bounds a hostile check, generously for a loaded machine under -race.
const maxCheckTime = 500 * time.Millisecond

// TestEnvoyGRPCHostileChecks sends the ext_authz gRPC listener checks no gateway
// would send: oversized paths, bodies and header maps, bytes that are not UTF-8,
// junk methods, and a message over gRPC's own limit. None may be allowed, each is
// answered in time, and the gateway's log at debug level holds no error.
func TestEnvoyGRPCHostileChecks(t *testing.T) {
	f, logs := loggedFixture(t)
	client, _ := serveEnvoy(t, f)
	for _, tt := range hostileChecks() {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			resp, err := client.Check(context.Background(), tt.req)
			took := time.Since(start)
			got := codes.Code(resp.GetStatus().GetCode())
			if err != nil {
				got = status.Code(err)
			}
			if got != tt.want || took > maxCheckTime {
				t.Fatalf("code %v (%v) in %v, want %v within %v", got, err, took, tt.want, maxCheckTime)
			}
		})
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the gateway logged an error:\n%s", logs)
	}
}

type hostileCheck struct {
	name string
	req  *authv3.CheckRequest
	want codes.Code
}

func hostileChecks() []hostileCheck {
	long := "/api/workspaces/dw-shop/miniprograms/" + strings.Repeat("m", 1<<20)
	withBody := func(size int) *authv3.CheckRequest {
		r := checkRequest("POST", "/api/workspaces/dw-shop/miniprograms/mp-1", nil)
		r.Attributes.Request.Http.Body = strings.Repeat("b", size)
		return r
	}
	manyHeaders := map[string]string{}
	for i := range 10000 {
		manyHeaders[fmt.Sprintf("x-many-%d", i)] = "m"
	}
	raw := checkRequest("GET", "/api/workspaces/dw-shop", nil)
	raw.Attributes.Request.Http.HeaderMap = &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
		{Key: "authorization", RawValue: []byte("Bearer \xff\xfe.\x00.\x7f")},
	}}
	denied, unauthenticated := codes.PermissionDenied, codes.Unauthenticated
	return []hostileCheck{
		{"a path of 1 MiB", checkRequest("GET", long, nil), denied},
		{"a path not utf-8", checkRequest("GET", "/api/workspaces/%FF%FE", nil), denied},
		{"a junk method", checkRequest("G\x00T", "/api/workspaces/dw-shop", nil), denied},
		{"10,000 headers", checkRequest("GET", "/api/workspaces/dw-shop", manyHeaders), unauthenticated},
		{"a body of 3 MiB", withBody(3 << 20), unauthenticated},
		{"an authorization header not utf-8", raw, unauthenticated},
		{"a message over gRPC's limit", withBody(5 << 20), codes.ResourceExhausted},
	}
}

// TestEnvoyGRPCNeverLogsCredentials makes allowed, denied and refused checks over
// gRPC with valid and invalid JWTs, cookies, Proxy-Authorization and a token in the
// query: the gateway's log at debug level holds none of them.
func TestEnvoyGRPCNeverLogsCredentials(t *testing.T) {
	f, logs := loggedFixture(t)
	client, _ := serveEnvoy(t, f)
	valid := f.token(t, "u-dev")
	forged := authtest.Sign(t, map[string]any{"alg": "RS256"}, authtest.Claims("u-dev", issuer, audience),
		f.keys.OtherRSA)
	const cookie, proxy, query = "cookie-secret-4f2a", "proxy-secret-8b1c", "query-secret-6d3e"
	secrets := []string{cookie, proxy, query, valid, forged}
	for _, tok := range []string{valid, forged} {
		secrets = append(secrets, strings.Split(tok, ".")[1:]...)
	}
	const mp = "/api/workspaces/dw-shop/miniprograms/"
	paths := []string{mp + "mp-1", mp + "mp-2", "/internal/x", mp + "mp-1/%2e%2e/mp-2"}
	n := 0
	for _, tok := range []string{valid, forged, "not-a-jwt-secret-9a7e"} {
		for _, path := range paths {
			req := checkRequest("GET", path+"?access_token="+query, map[string]string{
				"authorization": "Bearer " + tok, "cookie": "session=" + cookie,
				"proxy-authorization": "Basic " + proxy,
			})
			if _, err := client.Check(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	log := logs.String()
	if !strings.Contains(log, "gateway check") {
		t.Fatalf("the gateway logged no check: the test would prove nothing")
	}
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the gateway's log holds %q:\n%s", s, log)
		}
	}
	t.Logf("%d checks, %d secrets sought in %d bytes of log: none found", n, len(secrets), len(log))
}

// loggedFixture is newFixture's gateway with its log kept, at debug level.
func loggedFixture(t *testing.T) (*fixture, *servetest.Buffer) {
	t.Helper()
	logs := &servetest.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return newFixtureWithLog(t, nil, nil, log), logs
}
