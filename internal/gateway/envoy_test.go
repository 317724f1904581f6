package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/rolegate/rolegate/internal/gateway"
)

// envoyAnswer is what a gRPC test compares of a CheckResponse.
type envoyAnswer struct {
	Code       codes.Code
	HTTPStatus int
	Headers    map[string]string
	Body       string
}

func summariseEnvoy(r *authv3.CheckResponse) envoyAnswer {
	a := envoyAnswer{Code: codes.Code(r.GetStatus().GetCode()), Headers: map[string]string{}}
	opts := r.GetOkResponse().GetHeaders()
	if d := r.GetDeniedResponse(); d != nil {
		a.HTTPStatus, a.Body, opts = int(d.GetStatus().GetCode()), d.GetBody(), d.GetHeaders()
	}
	for _, o := range opts {
		if o.GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
			a.Headers["append:"+o.GetHeader().GetKey()] = "not overwrite"
		}
		a.Headers[o.GetHeader().GetKey()] = o.GetHeader().GetValue()
	}
	return a
}

// serveEnvoy starts the ext_authz server on a loopback port and returns a client;
// the server stops, and is checked to stop cleanly, when the test ends.
func serveEnvoy(t *testing.T, f *fixture) (authv3.AuthorizationClient, *grpc.ClientConn) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gateway.NewEnvoyServer(f.gw, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the server did not stop")
		}
	})
	return authv3.NewAuthorizationClient(conn), conn
}

func checkRequest(method, path string, headers map[string]string) *authv3.CheckRequest {
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: method, Path: path, Headers: headers, Host: "api.example.test", Scheme: "https",
		}},
	}}
}

func TestEnvoyCheck(t *testing.T) {
	f := newFixture(t, nil, nil)
	client, _ := serveEnvoy(t, f)
	bearer := map[string]string{"authorization": "Bearer " + f.token(t, "u-dev"), "x-rolegate-subject": "u-ann"}
	json := map[string]string{"content-type": "application/json"}
	notAssigned := `{"allow":false,"reasons":[{"code":"not_assigned",` +
		`"message":"mp-2 is not assigned to u-dev as developer of dw-shop"}]}`
	tests := []struct {
		name string
		req  *authv3.CheckRequest
		want envoyAnswer
	}{
		{
			name: "allow",
			req:  checkRequest("POST", "/api/workspaces/dw-shop/miniprograms/mp-1/versions?draft=1", bearer),
			want: envoyAnswer{Code: codes.OK, Headers: map[string]string{"x-rolegate-subject": "u-dev"}},
		},
		{
			name: "deny",
			req:  checkRequest("POST", "/api/workspaces/dw-shop/miniprograms/mp-2/versions", bearer),
			want: envoyAnswer{
				Code: codes.PermissionDenied, HTTPStatus: 403, Headers: json,
				Body: notAssigned,
			},
		},
		{
			name: "no route",
			req:  checkRequest("GET", "/internal/metrics", bearer),
			want: envoyAnswer{
				Code: codes.PermissionDenied, HTTPStatus: 403, Headers: json,
				Body: `{"allow":false,"reasons":[{"code":"no_route",` +
					`"message":"no route matches GET /internal/metrics"}]}`,
			},
		},
		{
			name: "missing identity",
			req:  checkRequest("GET", "/api/workspaces/dw-shop", map[string]string{"x-rolegate-subject": "u-ann"}),
			want: envoyAnswer{
				Code: codes.Unauthenticated, HTTPStatus: 401,
				Headers: map[string]string{
					"content-type": "application/json", "www-authenticate": `Bearer realm="rolegate"`,
				},
				Body: `{"error":{"code":"unauthenticated","message":"no credential: send a bearer token"}}`,
			},
		},
		{
			name: "bad path",
			req:  checkRequest("GET", "/api/workspaces/dw-shop/miniprograms/mp-1/%2e%2e/mp-2", bearer),
			want: envoyAnswer{
				Code: codes.PermissionDenied, HTTPStatus: 403, Headers: json,
				Body: `{"error":{"code":"invalid_path","message":"invalid path: a \"..\" segment"}}`,
			},
		},
		{
			name: "merged Authorization headers",
			req: checkRequest("GET", "/api/workspaces/dw-shop",
				map[string]string{"authorization": bearer["authorization"] + ", Bearer x.y.z"}),
			want: envoyAnswer{
				Code: codes.PermissionDenied, HTTPStatus: 403, Headers: json,
				Body: `{"error":{"code":"invalid_request",` +
					`"message":"ambiguous identity: the Authorization header appears more than once"}}`,
			},
		},
		{
			name: "no attributes",
			req:  &authv3.CheckRequest{},
			want: envoyAnswer{
				Code: codes.PermissionDenied, HTTPStatus: 403, Headers: json,
				Body: `{"error":{"code":"invalid_request","message":"the method \"\" is not an HTTP method"}}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Check(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summariseEnvoy(resp)); diff != "" {
				t.Fatalf("response (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEnvoyRawHeaders covers Envoy's encode_raw_headers mode, where repeated headers
// arrive as repeated entries of header_map rather than merged.
func TestEnvoyRawHeaders(t *testing.T) {
	f := newFixture(t, nil, nil)
	client, _ := serveEnvoy(t, f)
	token := []byte("Bearer " + f.token(t, "u-dev"))
	request := func(values ...[]byte) *authv3.CheckRequest {
		req := checkRequest("GET", "/api/workspaces/dw-shop", nil)
		hm := &corev3.HeaderMap{}
		for _, v := range values {
			hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: "authorization", RawValue: v})
		}
		req.Attributes.Request.Http.HeaderMap = hm
		return req
	}
	for name, tt := range map[string]struct {
		req  *authv3.CheckRequest
		want codes.Code
	}{
		"one":      {request(token), codes.OK},
		"repeated": {request(token, token), codes.PermissionDenied},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := client.Check(context.Background(), tt.req)
			if err != nil || codes.Code(resp.GetStatus().GetCode()) != tt.want {
				t.Fatalf("check = %v, %v; want %v", resp.GetStatus(), err, tt.want)
			}
		})
	}
}

func TestEnvoyHealth(t *testing.T) {
	f := newFixture(t, nil, nil)
	_, conn := serveEnvoy(t, f)
	resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v", resp, err)
	}
}

// TestEnvoyServeStopsGracefully stops the server while a check is in flight: the
// check still gets its answer, and Serve returns nil.
func TestEnvoyServeStopsGracefully(t *testing.T) {
	f := newFixture(t, func(c *gateway.Config) { c.Timeout = 300 * time.Millisecond }, slowStore{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- gateway.NewEnvoyServer(f.gw, slog.New(slog.DiscardHandler)).Serve(ctx, lis)
	}()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := checkRequest("GET", "/api/workspaces/dw-shop",
		map[string]string{"authorization": "Bearer " + f.token(t, "u-dana")})
	answered := make(chan *authv3.CheckResponse, 1)
	go func() {
		resp, _ := authv3.NewAuthorizationClient(conn).Check(context.Background(), req)
		answered <- resp
	}()
	time.Sleep(100 * time.Millisecond) // the check is waiting on the store
	cancel()
	if resp := <-answered; codes.Code(resp.GetStatus().GetCode()) != codes.PermissionDenied {
		t.Fatalf("the check in flight got %v, want its denial (timeout)", resp.GetStatus())
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
