package authz_test

import (
	"context"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/membership/storetest"
	"github.com/rolegate/rolegate/internal/policy"
	"github.com/rolegate/rolegate/test/domain"
)

// TestDomainMatrix checks every cell of the specification's matrix, for every role, in
// every situation that matters.
func TestDomainMatrix(t *testing.T) {
	p := bundletest.Compile(t, nil)
	world := domain.World()
	if err := world.Validate(p.Model().RoleTypes()); err != nil {
		t.Fatal(err)
	}
	svc := authz.NewService(engine.New(p), memory.New(world))
	cases, err := domain.Cases()
	if err != nil {
		t.Fatal(err)
	}
	// The second pass answers from the decision cache and must agree.
	allowed := 0
	for pass := range 2 {
		for _, c := range cases {
			d := svc.Decide(context.Background(), &c.Request)
			if d.Err != nil {
				t.Fatalf("%s: %v", c.Name, d.Err)
			}
			if d.Allow != c.Allow {
				t.Errorf("pass %d, %s: allow = %v, want %v (reasons %v)", pass, c.Name, d.Allow, c.Allow, d.Reasons)
			}
			if len(d.Reasons) == 0 {
				t.Errorf("%s: no reasons", c.Name)
			}
			if d.Allow && pass == 0 {
				allowed++
			}
		}
	}
	if hits := p.CacheStats().Hits; hits < uint64(len(cases)) {
		t.Fatalf("%d cache hits in the second pass, want %d", hits, len(cases))
	}
	t.Logf("%d cases, %d allowed", len(cases), allowed)
	if allowed == 0 || allowed == len(cases) {
		t.Fatalf("degenerate case set: %d of %d allowed", allowed, len(cases))
	}
}

// staleEngine returns an engine whose policy went stale a minute ago.
func staleEngine(t *testing.T) *engine.Engine {
	t.Helper()
	e := engine.New(nil)
	e.ActivateUntil(bundletest.Compile(t, nil), time.Now().Add(-time.Minute))
	return e
}

func TestDecideFailsClosed(t *testing.T) {
	admin := &authz.Request{
		Subject:  "u-workspace_admin",
		Action:   "workspace:view",
		Resource: authz.Resource{Workspace: domain.TenantHome},
	}
	tests := []struct {
		name     string
		svc      *authz.Service
		wantCode string
	}{
		{
			name:     "store unreachable",
			svc:      authz.NewService(engine.New(bundletest.Compile(t, nil)), storetest.Unreachable{}),
			wantCode: authz.CodeMembershipUnavailable,
		},
		{
			name:     "policy stale",
			svc:      authz.NewService(staleEngine(t), memory.New(domain.World())),
			wantCode: authz.CodePolicyStale,
		},
		{
			name:     "no policy active",
			svc:      authz.NewService(engine.New(nil), memory.New(domain.World())),
			wantCode: authz.CodePolicyUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.svc.Decide(context.Background(), admin)
			if d.Allow || d.Err == nil {
				t.Fatalf("allow = %v, err = %v; want a denial with an error", d.Allow, d.Err)
			}
			if len(d.Reasons) != 1 || d.Reasons[0].Code != tt.wantCode {
				t.Fatalf("reasons = %v, want %s", d.Reasons, tt.wantCode)
			}
		})
	}
}

func TestDecideReportsRevisions(t *testing.T) {
	p := bundletest.Compile(t, nil)
	svc := authz.NewService(engine.New(p), memory.New(domain.World()))
	d := svc.Decide(context.Background(), &authz.Request{
		Subject: "u-workspace_admin", Action: "workspace:view",
		Resource: authz.Resource{Workspace: domain.TenantHome},
	})
	if !d.Allow || d.PolicyRevision != p.Revision() || d.MembershipRevision != 1 {
		t.Fatalf("decision = %+v, want allowed at policy %s, membership 1", d, p.Revision())
	}
}

func TestDecideBeforeThePolicyIsStale(t *testing.T) {
	e := engine.New(nil)
	e.ActivateUntil(bundletest.Compile(t, nil), time.Now().Add(time.Hour))
	d := authz.NewService(e, memory.New(domain.World())).Decide(context.Background(), &authz.Request{
		Subject: "u-workspace_admin", Action: "workspace:view",
		Resource: authz.Resource{Workspace: domain.TenantHome},
	})
	if !d.Allow || d.Err != nil {
		t.Fatalf("decision = %+v, want allowed", d)
	}
}

// compiledAs compiles the built-in policy under another revision.
func compiledAs(t *testing.T, revision string) *engine.Policy {
	t.Helper()
	b, err := policy.Load("")
	if err != nil {
		t.Fatal(err)
	}
	b.Manifest.Revision = revision
	p, err := engine.Compile(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecidePinnedKeepsItsRevision(t *testing.T) {
	e := engine.New(compiledAs(t, "first"))
	svc := authz.NewService(e, memory.New(domain.World()))
	pin := svc.Pin()
	e.Activate(compiledAs(t, "second"))
	req := &authz.Request{
		Subject: "u-workspace_admin", Action: "workspace:view",
		Resource: authz.Resource{Workspace: domain.TenantHome},
	}
	if d := svc.DecidePinned(context.Background(), pin, req); !d.Allow || d.PolicyRevision != "first" {
		t.Fatalf("pinned decision = %+v, want allowed on revision first", d)
	}
	if d := svc.Decide(context.Background(), req); d.PolicyRevision != "second" {
		t.Fatalf("unpinned decision on revision %q, want second", d.PolicyRevision)
	}
}

func TestDecidePinnedDeniesAStalePin(t *testing.T) {
	svc := authz.NewService(staleEngine(t), memory.New(domain.World()))
	d := svc.DecidePinned(context.Background(), svc.Pin(), &authz.Request{
		Subject: "u-workspace_admin", Action: "workspace:view",
		Resource: authz.Resource{Workspace: domain.TenantHome},
	})
	if d.Allow || len(d.Reasons) != 1 || d.Reasons[0].Code != authz.CodePolicyStale {
		t.Fatalf("decision = %+v, want denied with %s", d, authz.CodePolicyStale)
	}
}
