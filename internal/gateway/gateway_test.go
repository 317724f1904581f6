package gateway_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/auth/authtest"
	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/gateway"
	"github.com/rolegate/rolegate/internal/membership"
)

// outcome is what a test compares of a Result and its Response.
type outcome struct {
	Outcome   string
	Status    int
	Subject   string
	Operation string
	Reason    string
}

func summarise(gw *gateway.Gateway, res gateway.Result) outcome {
	return outcome{
		Outcome: res.Outcome.String(), Status: gw.Status(&res), Subject: res.Subject,
		Operation: res.Operation, Reason: res.Reasons[0].Code,
	}
}

func TestCheck(t *testing.T) {
	f := newFixture(t, nil, nil)
	rs := map[string]any{"alg": "RS256"}
	expired := authtest.Claims("u-dana", issuer, audience)
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	otherKey := authtest.Sign(t, rs, authtest.Claims("u-ann", issuer, audience), f.keys.OtherRSA)
	tests := []struct {
		name    string
		subject string      // bearer token for this subject
		header  http.Header // used instead when set
		method  string
		uri     string
		want    outcome
	}{
		{
			"allowed create", "u-dana", nil, "POST", "/api/workspaces/dw-shop/miniprograms",
			outcome{"allow", 200, "u-dana", "miniprogram:create", "granted"},
		},
		{
			"assigned mini program", "u-dev", nil, "PATCH", "/api/workspaces/dw-shop/miniprograms/mp-1",
			outcome{"allow", 200, "u-dev", "miniprogram:update", "granted"},
		},
		{
			"unassigned mini program", "u-dev", nil, "PATCH", "/api/workspaces/dw-shop/miniprograms/mp-2",
			outcome{"deny", 403, "u-dev", "miniprogram:update", "not_assigned"},
		},
		{
			"HEAD is GET", "u-dev", nil, "HEAD", "/api/workspaces/dw-shop",
			outcome{"allow", 200, "u-dev", "workspace:view", "granted"},
		},
		{
			"query is not matched", "u-dev", nil, "GET", "/api/workspaces/dw-shop?next=/../tw-alpha",
			outcome{"allow", 200, "u-dev", "workspace:view", "granted"},
		},
		{
			"tenant admin in its merchant", "u-ann", nil,
			"POST", "/api/workspaces/dw-shop/miniprograms/mp-9/force-remove",
			outcome{"allow", 200, "u-ann", "miniprogram:force_remove", "granted"},
		},
		{
			"tenant admin in another tenant's merchant", "u-ann", nil, "GET", "/api/developer-workspaces/dw-books",
			outcome{"deny", 403, "u-ann", "developer_workspace:view", "no_membership"},
		},
		{
			"member removed by admin", "u-dana", nil, "DELETE", "/api/workspaces/dw-shop/members/u-dev",
			outcome{"allow", 200, "u-dana", "member:remove", "granted"},
		},
		{
			"own membership", "u-dana", nil, "DELETE", "/api/workspaces/dw-shop/members/u-dana",
			outcome{"deny", 403, "u-dana", "member:remove", "self_membership_change"},
		},
		{
			"approve through its gateway check", "u-rita", nil,
			"POST", "/api/workspaces/tw-alpha/approvals/r-1/approve",
			outcome{"allow", 200, "u-rita", "approval:approve", "granted"},
		},
		{
			"approve without the role", "u-will", nil, "POST", "/api/workspaces/tw-alpha/approvals/r-1/approve",
			outcome{"deny", 403, "u-will", "approval:approve", "operation_not_granted"},
		},
		{
			"unknown workspace", "u-ann", nil, "GET", "/api/workspaces/tw-nowhere",
			outcome{"deny", 403, "u-ann", "workspace:view", "unknown_workspace"},
		},
		{
			"no route", "u-ann", nil, "GET", "/api/workspaces/tw-alpha/secrets",
			outcome{"deny", 403, "u-ann", "", "no_route"},
		},
		{
			"no route for the method", "u-ann", nil, "OPTIONS", "/api/workspaces/tw-alpha",
			outcome{"deny", 403, "u-ann", "", "no_route"},
		},
		{
			"no token", "", nil, "GET", "/api/workspaces/dw-shop",
			outcome{"unauthenticated", 401, "", "", "unauthenticated"},
		},
		{
			"expired token", "",
			http.Header{"Authorization": {"Bearer " + authtest.Sign(t, rs, expired, f.keys.RSA)}},
			"GET", "/api/workspaces/dw-shop",
			outcome{"unauthenticated", 401, "", "", "unauthenticated"},
		},
		{
			"token of another key", "",
			http.Header{"Authorization": {"Bearer " + otherKey}},
			"GET", "/api/workspaces/dw-shop",
			outcome{"unauthenticated", 401, "", "", "unauthenticated"},
		},
		{
			"basic credentials", "",
			http.Header{"Authorization": {"Basic dTpw"}},
			"GET", "/api/workspaces/dw-shop",
			outcome{"unauthenticated", 401, "", "", "unauthenticated"},
		},
		{
			"repeated Authorization", "",
			http.Header{"Authorization": {"Bearer " + f.token(t, "u-dev"), "Bearer " + f.token(t, "u-ann")}},
			"GET", "/api/workspaces/dw-shop",
			outcome{"invalid", 403, "", "", "invalid_request"},
		},
		{
			"merged Authorization", "",
			http.Header{"Authorization": {"Bearer " + f.token(t, "u-dev") + ", Bearer " + f.token(t, "u-ann")}},
			"GET", "/api/workspaces/dw-shop",
			outcome{"invalid", 403, "", "", "invalid_request"},
		},
		{
			"trusted header not configured", "u-dev",
			http.Header{"X-Authenticated-User": {"u-ann"}},
			"GET", "/api/workspaces/tw-alpha",
			outcome{"unauthenticated", 401, "", "", "unauthenticated"},
		},
		{
			"ambiguous path", "u-dev", nil, "GET", "/api/workspaces/dw-shop/miniprograms/mp-1/../mp-2",
			outcome{"invalid", 403, "", "", "invalid_path"},
		},
		{
			"method override", "",
			http.Header{
				"Authorization":          {"Bearer " + f.token(t, "u-dev")},
				"X-Http-Method-Override": {"DELETE"},
			},
			"GET", "/api/workspaces/dw-shop/miniprograms/mp-2",
			outcome{"invalid", 403, "", "", "invalid_request"},
		},
		{
			"no method", "u-dev", nil, "", "/api/workspaces/dw-shop",
			outcome{"invalid", 403, "", "", "invalid_request"},
		},
		{
			"method too long", "u-dev", nil, strings.Repeat("GET", 11), "/api/workspaces/dw-shop",
			outcome{"invalid", 403, "", "", "invalid_request"},
		},
		{
			"id too long", "u-dev", nil, "GET", "/api/workspaces/dw-shop/miniprograms/" + strings.Repeat("m", 300),
			outcome{"invalid", 403, "u-dev", "miniprogram:view", "invalid_request"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = f.bearer(t, tt.subject)
			}
			res := f.gw.Check(context.Background(), &gateway.Request{Method: tt.method, URI: tt.uri, Header: h})
			if diff := cmp.Diff(tt.want, summarise(f.gw, res)); diff != "" {
				t.Fatalf("result (-want +got):\n%s\nreasons: %v, err: %v", diff, res.Reasons, res.Err)
			}
		})
	}
}

func TestTrustedSubjectHeader(t *testing.T) {
	f := newFixture(t, func(c *gateway.Config) { c.TrustedSubjectHeader = "X-Authenticated-User" }, nil)
	user := func(values ...string) http.Header { return http.Header{"X-Authenticated-User": values} }
	invalid := outcome{"invalid", 403, "", "", "invalid_request"}
	unauthenticated := outcome{"unauthenticated", 401, "", "", "unauthenticated"}
	tests := []struct {
		name   string
		header http.Header
		want   outcome
	}{
		{"header", user("u-dana"), outcome{"allow", 200, "u-dana", "workspace:view", "granted"}},
		{
			"header wins over a token",
			http.Header{"X-Authenticated-User": {"u-dana"}, "Authorization": {"Bearer " + f.token(t, "u-bob")}},
			outcome{"allow", 200, "u-dana", "workspace:view", "granted"},
		},
		{
			"no header, a token",
			http.Header{"Authorization": {"Bearer " + f.token(t, "u-bob")}},
			outcome{"deny", 403, "u-bob", "workspace:view", "no_membership"},
		},
		{"repeated header", user("u-bob", "u-dana"), invalid},
		{"merged header", user("u-bob,u-dana"), invalid},
		{"control character", user("u-dana\x00"), unauthenticated},
		{"neither", http.Header{}, unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.gw.Check(context.Background(), &gateway.Request{
				Method: "GET", URI: "/api/workspaces/dw-shop", Header: tt.header,
			})
			if diff := cmp.Diff(tt.want, summarise(f.gw, res)); diff != "" {
				t.Fatalf("result (-want +got):\n%s\nreasons: %v", diff, res.Reasons)
			}
		})
	}
}

// slowStore answers nothing until its caller gives up; failingStore fails at once.
type (
	slowStore    struct{ membership.Reader }
	failingStore struct{ membership.Reader }
)

func (slowStore) Revision(ctx context.Context) (uint64, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

func (failingStore) Revision(context.Context) (uint64, error) {
	return 0, errors.New("connection refused")
}

func TestErrorsAndTimeoutsNeverAllow(t *testing.T) {
	denied := func(status int, code string) outcome {
		return outcome{"deny", status, "u-dana", "workspace:view", code}
	}
	tests := []struct {
		name        string
		store       membership.Reader
		errorStatus int
		want        outcome
	}{
		{"timeout", slowStore{}, 0, denied(403, gateway.CodeTimeout)},
		{"timeout, configured status", slowStore{}, 503, denied(503, gateway.CodeTimeout)},
		{"store down", failingStore{}, 0, denied(403, authz.CodeMembershipUnavailable)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *gateway.Config) {
				c.Timeout = 20 * time.Millisecond
				c.ErrorStatus = tt.errorStatus
			}, tt.store)
			start := time.Now()
			res := f.gw.Check(context.Background(), &gateway.Request{
				Method: "GET", URI: "/api/workspaces/dw-shop", Header: f.bearer(t, "u-dana"),
			})
			if diff := cmp.Diff(tt.want, summarise(f.gw, res)); diff != "" {
				t.Fatalf("result (-want +got):\n%s", diff)
			}
			if res.Err == nil {
				t.Fatal("no error recorded for the logs")
			}
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Fatalf("the check took %s", elapsed)
			}
		})
	}
}

func TestNoActivePolicyDenies(t *testing.T) {
	f := newFixture(t, func(c *gateway.Config) { c.ErrorStatus = 503 }, nil)
	e := engine.New(nil)
	gw, err := gateway.New(f.gw.Config(), authz.NewService(e, failingStore{}),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	res := gw.Check(context.Background(), &gateway.Request{
		Method: "GET", URI: "/api/workspaces/dw-shop", Header: f.bearer(t, "u-dana"),
	})
	want := outcome{"deny", 503, "u-dana", "", authz.CodePolicyUnavailable}
	if diff := cmp.Diff(want, summarise(gw, res)); diff != "" {
		t.Fatalf("result (-want +got):\n%s", diff)
	}
}
