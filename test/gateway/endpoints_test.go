package gateway

import (
	"context"
	"net/http"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/rolegate/rolegate/internal/auth/authtest"
)

// verdict is what a gateway acts on in rolegate's answer: the status, the subject
// for the upstream, the challenge on a 401 and the codes of the JSON body.
type verdict struct {
	Status    int
	Subject   string
	Challenge string
	Codes     []string
}

// bodyCodes returns the reason codes of a denial body or the code of an error body.
func bodyCodes(t *testing.T, body string) []string {
	t.Helper()
	if body == "" {
		return nil
	}
	var b struct {
		Reasons []struct {
			Code string `json:"code"`
		} `json:"reasons"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	codes := []string{}
	for _, r := range b.Reasons {
		codes = append(codes, r.Code)
	}
	if b.Error.Code != "" {
		codes = append(codes, b.Error.Code)
	}
	return codes
}

// TestServedForwardAuth calls the served binary's HTTP gateway endpoints as Traefik's
// forwardAuth (X-Forwarded-Method and -Uri on /v1/gateway/auth) and Envoy's ext_authz
// in HTTP mode (the original method and path under /v1/gateway/envoy) call them.
func TestServedForwardAuth(t *testing.T) {
	keys := authtest.NewKeys(t)
	rg := startRolegate(t, keys)
	dana, dev := bearer(token(t, keys, "u-dana")), bearer(token(t, keys, "u-dev"))
	const (
		auth    = "/v1/gateway/auth"
		envoy   = "/v1/gateway/envoy"
		create  = "/api/workspaces/dw-shop/miniprograms"
		upload2 = "/api/workspaces/dw-shop/miniprograms/mp-2/versions"
	)
	challenge := `Bearer realm="rolegate"`
	traefik := func(h http.Header, method, uri string) http.Header {
		return with(h, "X-Forwarded-Method", method, "X-Forwarded-Uri", uri)
	}
	allowed := verdict{Status: 200, Subject: "u-dana"}
	notAssigned := verdict{Status: 403, Codes: []string{"not_assigned"}}
	noIdentity := verdict{Status: 401, Challenge: challenge, Codes: []string{"unauthenticated"}}
	invalidPath := verdict{Status: 403, Codes: []string{"invalid_path"}}
	invalidRequest := verdict{Status: 403, Codes: []string{"invalid_request"}}
	tests := []struct {
		name, method, target string
		header               http.Header
		want                 verdict
	}{
		{"traefik allow", "GET", auth, traefik(dana, "POST", create+"?draft=1"), allowed},
		{"traefik deny", "GET", auth, traefik(dev, "POST", upload2), notAssigned},
		{"traefik no token", "GET", auth, traefik(nil, "POST", create), noIdentity},
		{"traefik %2F", "GET", auth, traefik(dana, "POST", "/api/workspaces%2Fdw-shop/x"), invalidPath},
		{
			"traefik and nginx headers together", "GET", auth,
			with(traefik(dana, "POST", create), "X-Original-Method", "POST", "X-Original-URI", create),
			invalidRequest,
		},
		{"no original request", "GET", auth, dana, invalidRequest},
		{"envoy allow", "POST", envoy + create + "?draft=1", dana, allowed},
		{"envoy deny", "POST", envoy + upload2, dev, notAssigned},
		{"envoy no token", "POST", envoy + create, nil, noIdentity},
		{"envoy //", "POST", envoy + "/api/workspaces/dw-shop//miniprograms", dana, invalidPath},
		{"envoy with Traefik headers", "POST", envoy + create, traefik(dana, "POST", create), invalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := send(t, rg.httpAddr, tt.method, tt.target, tt.header, nil)
			v := verdict{
				Status: got.status, Subject: got.header.Get("X-Rolegate-Subject"),
				Challenge: got.header.Get("WWW-Authenticate"), Codes: bodyCodes(t, got.body),
			}
			if diff := cmp.Diff(tt.want, v); diff != "" {
				t.Errorf("answer (-want +got):\n%s\nbody %s", diff, got.body)
			}
		})
	}
}

// TestServedEnvoyGRPC calls Check on the served binary's ext_authz gRPC listener with
// Envoy's own types, and its health service.
func TestServedEnvoyGRPC(t *testing.T) {
	keys := authtest.NewKeys(t)
	rg := startRolegate(t, keys)
	conn, err := grpc.NewClient(rg.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := authv3.NewAuthorizationClient(conn)
	dev := map[string]string{
		"authorization":      "Bearer " + token(t, keys, "u-dev"),
		"x-rolegate-subject": "u-ann", // replaced on an allow
	}
	type want struct {
		Code    codes.Code
		Status  int // of the denied response
		Subject string
		Reasons []string
	}
	tests := []struct {
		name, method, path string
		headers            map[string]string
		want               want
	}{
		{
			"allow", "POST", "/api/workspaces/dw-shop/miniprograms/mp-1/versions?draft=1", dev,
			want{Code: codes.OK, Subject: "u-dev"},
		},
		{
			"deny", "POST", "/api/workspaces/dw-shop/miniprograms/mp-2/versions", dev,
			want{codes.PermissionDenied, 403, "", []string{"not_assigned"}},
		},
		{
			"missing identity", "GET", "/api/workspaces/dw-shop",
			map[string]string{"x-rolegate-subject": "u-ann"},
			want{codes.Unauthenticated, 401, "", []string{"unauthenticated"}},
		},
		{
			"bad path", "GET", "/api/workspaces/dw-shop/miniprograms/mp-1/%2e%2e/mp-2", dev,
			want{codes.PermissionDenied, 403, "", []string{"invalid_path"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			resp, err := client.Check(ctx, envoyRequest(tt.method, tt.path, tt.headers))
			if err != nil {
				t.Fatal(err)
			}
			var subject string
			for _, h := range resp.GetOkResponse().GetHeaders() {
				if h.GetHeader().GetKey() == "x-rolegate-subject" {
					subject = h.GetHeader().GetValue()
				}
			}
			denied := resp.GetDeniedResponse()
			got := want{
				Code: codes.Code(resp.GetStatus().GetCode()), Status: int(denied.GetStatus().GetCode()),
				Subject: subject, Reasons: bodyCodes(t, denied.GetBody()),
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("health", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health = %v, %v", resp, err)
		}
	})
}

// envoyRequest is the CheckRequest Envoy sends for a request.
func envoyRequest(method, path string, headers map[string]string) *authv3.CheckRequest {
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: method, Path: path, Headers: headers, Host: "api.example.test", Scheme: "https",
		}},
	}}
}
