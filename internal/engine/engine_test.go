package engine_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	opabundle "github.com/open-policy-agent/opa/v1/bundle"

	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/policy"
	"github.com/rolegate/rolegate/policies"
)

func loadFS(t testing.TB, fsys fs.FS) *opabundle.Bundle {
	t.Helper()
	b, err := policy.FromFS(fsys, "test")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compile(t testing.TB, fsys fs.FS) (*engine.Policy, error) {
	t.Helper()
	return engine.Compile(context.Background(), loadFS(t, fsys))
}

func TestCompileRejects(t *testing.T) {
	tests := []struct {
		name    string
		replace map[string]string
		wantErr string
	}{
		{
			name:    "undefined function",
			replace: map[string]string{"rolegate/extra.rego": "package rolegate.extra\n\nx := nope(1)\n"},
			wantErr: "undefined function nope",
		},
		{
			name: "unknown scope in the model",
			replace: map[string]string{"rolegate/model/model.rego": `package rolegate.model
conditions := {"x"}
operations := {"a:b": {"lists": false, "conditions": ["x"]}}
roles := {"r": {"title": "R", "workspace_type": "tenant", "grants": {"a:b": "everywhere"}}}
`},
			wantErr: `unknown scope "everywhere"`,
		},
		{
			name: "grant of an unknown operation",
			replace: map[string]string{"rolegate/model/model.rego": `package rolegate.model
conditions := {"x"}
operations := {"a:b": {"lists": false, "conditions": ["x"]}}
roles := {"r": {"title": "R", "workspace_type": "shop", "grants": {"c:d": "own"}}}
`},
			wantErr: `grants unknown operation "c:d"`,
		},
		{
			name:    "route to an unknown operation",
			replace: routesWith(`"GET /api/workspaces/{workspace}": "workspace:fly"`, ``),
			wantErr: `route GET /api/workspaces/{workspace}: unknown operation "workspace:fly"`,
		},
		{
			name:    "malformed template",
			replace: routesWith(`"GET /api/workspaces/{workspace}//x": "workspace:view"`, ``),
			wantErr: `segment 4: "" is not lowercase words`,
		},
		{
			name: "ambiguous routes",
			replace: routesWith(`"GET /api/workspaces/{workspace}/x": "workspace:view",
				"GET /api/workspaces/{workspace}/{other}": "workspace:view"`, ``),
			wantErr: "match the same requests",
		},
		{
			name: "gateway check of an unknown operation",
			replace: routesWith(`"GET /api/workspaces/{workspace}": "workspace:view"`,
				`"workspace:view": "workspace:peek"`),
			wantErr: `unknown operation "workspace:peek"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compile(t, bundletest.Files(t, tt.replace))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// routesWith returns a route table module with the given routes and gateway checks.
func routesWith(routes, checks string) map[string]string {
	return map[string]string{"rolegate/routes/routes.rego": "package rolegate.routes\n\n" +
		"routes := {" + routes + "}\n\ngateway_checks := {" + checks + "}\n"}
}

func TestRoutes(t *testing.T) {
	p, err := compile(t, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := p.Routes().Match("POST", "/api/workspaces/dw-shop/miniprograms/mp-1/versions")
	if !ok {
		t.Fatal("no route for a version upload")
	}
	got := []string{m.Route.Operation, m.Route.Check, m.Param("workspace"), m.Param("id")}
	want := []string{"miniprogram.version:upload", "miniprogram.version:upload", "dw-shop", "mp-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("match (-want +got):\n%s", diff)
	}
	m, ok = p.Routes().Match("POST", "/api/workspaces/tw-alpha/approvals/r-1/approve")
	if !ok || m.Route.Operation != "approval:approve" || m.Route.Check != "approval:list" {
		t.Fatalf("approve matched %+v, %v; want approval:approve checked as approval:list", m.Route, ok)
	}
}

func TestAPolicyWithoutRoutesHasAnEmptyTable(t *testing.T) {
	model, err := fs.ReadFile(policies.FS, "rolegate/model/model.rego")
	if err != nil {
		t.Fatal(err)
	}
	p, err := compile(t, fstest.MapFS{"rolegate/model/model.rego": {Data: model}})
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Routes().Len(); n != 0 {
		t.Fatalf("%d routes, want none", n)
	}
	if _, ok := p.Routes().Match("GET", "/api/workspaces/w"); ok {
		t.Fatal("an empty table matched")
	}
}

func TestDecideRejectsAMalformedResult(t *testing.T) {
	model, err := fs.ReadFile(policies.FS, "rolegate/model/model.rego")
	if err != nil {
		t.Fatal(err)
	}
	p, err := compile(t, fstest.MapFS{
		"rolegate/model/model.rego": {Data: model},
		"rolegate/authz/authz.rego": {Data: []byte("package rolegate.authz\n\ndecision := {\"allow\": \"yes\"}\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Decide(context.Background(), &engine.Input{Subject: "u", Action: "workspace:view"})
	if !errors.Is(err, engine.ErrMalformedResult) {
		t.Fatalf("error = %v, want ErrMalformedResult", err)
	}
}

func TestDecide(t *testing.T) {
	p, err := compile(t, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	in := &engine.Input{
		Subject:  "u-dev",
		Action:   "miniprogram:update",
		Resource: engine.Resource{Workspace: "dw-shop", ID: "mp-1"},
		Facts: engine.Facts{
			Workspace: &membership.Workspace{ID: "dw-shop", Type: "developer", Tenant: "tw-alpha"},
			Memberships: []membership.Membership{{
				User: "u-dev", Workspace: "dw-shop", Role: "developer",
				Status: membership.StatusActive, MiniPrograms: []string{"mp-1"},
			}},
		},
	}
	d, err := p.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Reason{Code: "granted", Message: "developer of dw-shop grants miniprogram:update"}
	if !d.Allow || len(d.Reasons) != 1 || d.Reasons[0] != want || d.PolicyRevision != p.Revision() {
		t.Fatalf("decision = %+v", d)
	}

	in.Resource.ID = "mp-9"
	if d, err = p.Decide(context.Background(), in); err != nil || d.Allow || d.Reasons[0].Code != "not_assigned" {
		t.Fatalf("decision = %+v, %v; want not_assigned", d, err)
	}
}

func TestEngineActivate(t *testing.T) {
	e := engine.New(nil)
	if e.Policy() != nil {
		t.Fatal("a new engine has a policy")
	}
	p, err := compile(t, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	e.Activate(p)
	if got, staleAt := e.Active(); got != p || !staleAt.IsZero() {
		t.Fatalf("active = %p until %v, want %p, never stale", got, staleAt, p)
	}
}

func TestEngineStaleTime(t *testing.T) {
	p, err := compile(t, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	q, err := compile(t, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := engine.New(nil)
	if e.Renew(p, t0) {
		t.Fatal("renewed a policy that is not active")
	}
	e.ActivateUntil(p, t0)
	if !e.Renew(p, t0.Add(time.Minute)) {
		t.Fatal("did not renew the active policy")
	}
	if got, staleAt := e.Active(); got != p || !staleAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("active = %p until %v, want %p until %v", got, staleAt, p, t0.Add(time.Minute))
	}
	e.ActivateUntil(q, t0)
	if e.Renew(p, t0.Add(time.Hour)) {
		t.Fatal("renewed a policy that was replaced")
	}
	if got, staleAt := e.Active(); got != q || !staleAt.Equal(t0) {
		t.Fatalf("active = %p until %v, want %p until %v", got, staleAt, q, t0)
	}
}

func TestMembershipsData(t *testing.T) {
	d := &membership.Data{
		Workspaces: []membership.Workspace{
			{ID: "tw", Type: membership.TypeTenant},
			{ID: "dw", Type: membership.TypeDeveloper, Tenant: "tw"},
		},
		Memberships: []membership.Membership{
			{User: "u", Workspace: "tw", Role: "workspace_admin", Status: membership.StatusActive},
			{User: "u", Workspace: "dw", Role: "developer", Status: membership.StatusInvited, MiniPrograms: []string{"mp"}},
		},
	}
	want := map[string]any{
		"workspaces": map[string]any{
			"tw": map[string]any{"type": "tenant"},
			"dw": map[string]any{"type": "developer", "tenant": "tw"},
		},
		"users": map[string]any{"u": map[string]any{
			"tw": map[string]any{"role": "workspace_admin", "status": "active", "miniprograms": []any{}},
			"dw": map[string]any{"role": "developer", "status": "invited", "miniprograms": []any{"mp"}},
		}},
	}
	if diff := cmp.Diff(want, engine.MembershipsData(d)); diff != "" {
		t.Fatalf("layout differs (-want +got):\n%s", diff)
	}
}
