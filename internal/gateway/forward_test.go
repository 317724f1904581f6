package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/gateway"
)

// answer is what a forward-auth test compares of a Response.
type answer struct {
	Status  int
	Subject string // the upstream subject header
	Body    string
}

func TestForwardAuth(t *testing.T) {
	f := newFixture(t, nil, nil)
	dev := "Bearer " + f.token(t, "u-dev")
	with := func(kv ...string) http.Header {
		h := http.Header{"Authorization": {dev}}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	const (
		allowed = "/api/workspaces/dw-shop/miniprograms/mp-1"
		denied  = "/api/workspaces/dw-shop/miniprograms/mp-2"
		envoy   = gateway.DefaultEnvoyPathPrefix
	)
	deniedBody := `{"allow":false,"reasons":[{"code":"not_assigned",` +
		`"message":"mp-2 is not assigned to u-dev as developer of dw-shop"}]}`
	tests := []struct {
		name         string
		method, uri  string
		header       http.Header
		want         answer
		wantIncludes string // for error bodies, a part of the message
	}{
		{
			"nginx allow", "GET", gateway.ForwardAuthPath,
			with("X-Original-Method", "PATCH", "X-Original-URI", allowed+"?x=1"),
			answer{200, "u-dev", ""},
			"",
		},
		{
			"nginx deny", "GET", gateway.ForwardAuthPath,
			with("X-Original-Method", "PATCH", "X-Original-URI", denied),
			answer{403, "", deniedBody},
			"",
		},
		{
			"nginx without its method", "GET", gateway.ForwardAuthPath,
			with("X-Original-URI", allowed),
			answer{403, "", ""},
			"X-Original-Method and X-Original-URI must each appear once",
		},
		{
			"traefik allow", "GET", gateway.ForwardAuthPath,
			with("X-Forwarded-Method", "PATCH", "X-Forwarded-Uri", allowed),
			answer{200, "u-dev", ""},
			"",
		},
		{
			"traefik deny", "GET", gateway.ForwardAuthPath,
			with("X-Forwarded-Method", "PATCH", "X-Forwarded-Uri", denied),
			answer{403, "", deniedBody},
			"",
		},
		{
			"traefik repeated uri", "GET", gateway.ForwardAuthPath,
			with("X-Forwarded-Method", "PATCH", "X-Forwarded-Uri", allowed, "X-Forwarded-Uri", denied),
			answer{403, "", ""},
			"must each appear once",
		},
		{"envoy allow", "PATCH", envoy + allowed, with(), answer{200, "u-dev", ""}, ""},
		{"envoy deny", "PATCH", envoy + denied, with(), answer{403, "", deniedBody}, ""},
		{
			"envoy ambiguous path", "PATCH", envoy + "/api/workspaces/dw-shop/miniprograms/mp-1%2F..%2Fmp-2", with(),
			answer{403, "", ""},
			"%2F, which encodes a / inside a segment",
		},
		{
			"envoy with a client's nginx headers", "PATCH", envoy + denied,
			with("X-Original-Method", "GET", "X-Original-URI", allowed),
			answer{403, "", ""},
			"in more than one way",
		},
		{
			"nginx and traefik headers", "GET", gateway.ForwardAuthPath,
			with("X-Original-Method", "PATCH", "X-Original-URI", allowed,
				"X-Forwarded-Method", "PATCH", "X-Forwarded-Uri", denied),
			answer{403, "", ""},
			"in more than one way",
		},
		{"no original", "GET", gateway.ForwardAuthPath, with(), answer{403, "", ""}, "no original request"},
		{
			"nginx without a token", "GET", gateway.ForwardAuthPath,
			http.Header{"X-Original-Method": {"PATCH"}, "X-Original-Uri": {allowed}},
			answer{401, "", `{"error":{"code":"unauthenticated","message":"no credential: send a bearer token"}}`},
			"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, resp := f.gw.ForwardAuth(context.Background(), tt.method, tt.uri, tt.header)
			got := answer{resp.Status, resp.Header.Get(gateway.DefaultSubjectHeader), string(resp.Body)}
			if tt.wantIncludes != "" {
				if !strings.Contains(got.Body, `"code":"invalid_`) || !strings.Contains(got.Body, tt.wantIncludes) {
					t.Fatalf("body %s does not say %q", got.Body, tt.wantIncludes)
				}
				got.Body = ""
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("answer (-want +got):\n%s\nresult: %+v", diff, res)
			}
			if resp.Status != http.StatusOK && resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("a refusal without a JSON content type: %v", resp.Header)
			}
			if resp.Status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("a 401 without WWW-Authenticate")
			}
		})
	}
}

// TestDenialsListEveryReason checks that a denial's body carries all the policy's
// reasons, not just the first.
func TestDenialsListEveryReason(t *testing.T) {
	f := newFixture(t, nil, nil)
	res, resp := f.gw.ForwardAuth(context.Background(), "GET", gateway.ForwardAuthPath, http.Header{
		"Authorization":     {"Bearer " + f.token(t, "u-ann")},
		"X-Original-Method": {"GET"},
		"X-Original-Uri":    {"/api/developer-workspaces/dw-books"},
	})
	want := `{"allow":false,"reasons":[` +
		`{"code":"no_membership","message":"u-ann has no membership in dw-books or in its tenant tw-beta"},` +
		`{"code":"other_tenant","message":"workspace_admin of tw-alpha reaches only the merchants of tw-alpha,` +
		` and dw-books belongs to tw-beta"}]}`
	if len(res.Reasons) != 2 || string(resp.Body) != want {
		t.Fatalf("body = %s\nwant %s", resp.Body, want)
	}
}

func TestNewNeedsAnEngineAndAService(t *testing.T) {
	if _, err := gateway.New(gateway.Config{TrustedSubjectHeader: "X-User"}, nil, nil); err == nil {
		t.Fatal("a gateway without an engine was built")
	}
}
