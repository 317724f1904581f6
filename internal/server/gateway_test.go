package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/gateway"
	"github.com/rolegate/rolegate/internal/metrics"
	"github.com/rolegate/rolegate/internal/server"
)

// gatewayServer serves the forward-auth family, taking the subject from X-User.
func gatewayServer(t *testing.T) http.Handler {
	t.Helper()
	w := exampleWorld(t)
	svc := authz.NewService(engine.New(w.policy), w.store)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	gw, err := gateway.New(gateway.Config{TrustedSubjectHeader: "X-User"}, svc, logger)
	if err != nil {
		t.Fatal(err)
	}
	return server.New(server.Options{
		Service: svc, Store: w.pinger, Limits: w.limits, Logger: logger, Metrics: metrics.New(), Gateway: gw,
	}).Handler()
}

// TestGatewayRoutesAnswerOnlyAsGatewaysExpect holds the forward-auth family to 200, 401
// and 403 even for requests the HTTP layer refuses before any check: a gateway turns
// any other status into an error page or passes it on, and must never see a 200.
func TestGatewayRoutesAnswerOnlyAsGatewaysExpect(t *testing.T) {
	h := gatewayServer(t)
	envoy := gateway.DefaultEnvoyPathPrefix + "/api/workspaces/dw-shop/miniprograms/mp-1"
	nginx := []string{
		"X-User", "u-dev", gateway.HeaderOriginalMethod, "GET",
		gateway.HeaderOriginalURI, "/api/workspaces/dw-shop/miniprograms/mp-1",
	}
	tests := []struct {
		name     string
		method   string
		target   string
		header   []string
		wantCode int
		wantBody string
	}{
		{
			name: "allowed through nginx", method: "GET", target: gateway.ForwardAuthPath,
			header: nginx, wantCode: http.StatusOK,
		},
		{
			name: "allowed through envoy", method: "GET", target: envoy,
			header: []string{"X-User", "u-dev"}, wantCode: http.StatusOK,
		},
		{
			name: "method nothing routes", method: "PROPFIND", target: envoy,
			header: []string{"X-User", "u-dev"}, wantCode: http.StatusForbidden, wantBody: "method_not_allowed",
		},
		{
			name: "query too long", method: "GET", target: gateway.ForwardAuthPath + "?q=" + strings.Repeat("a", 9<<10),
			header: nginx, wantCode: http.StatusForbidden, wantBody: "query_too_large",
		},
		{
			name: "headers too large", method: "GET", target: gateway.ForwardAuthPath,
			header:   append([]string{"X-Padding", strings.Repeat("p", 65<<10)}, nginx...),
			wantCode: http.StatusForbidden, wantBody: "headers_too_large",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := call(h, tt.method, tt.target, "", "", tt.header...)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Fatalf("body %s, want it to name %s", rec.Body, tt.wantBody)
			}
		})
	}
}

// TestNonGatewayRoutesKeepTheirStatus makes sure only the forward-auth family answers
// in the gateway's terms.
func TestNonGatewayRoutesKeepTheirStatus(t *testing.T) {
	rec := call(gatewayServer(t), "PROPFIND", "/v1/decisions", "", "")
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("status %d, want 405: %s", rec.Code, rec.Body)
	}
}
