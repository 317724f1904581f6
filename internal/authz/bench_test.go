package authz_test

import (
	"context"
	"testing"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/policy"
	"github.com/rolegate/rolegate/test/domain"
)

// BenchmarkDecide measures one decision in process, as the service makes it: fact
// lookup in the embedded store, then the decision cache answers the repeated input.
func BenchmarkDecide(b *testing.B) {
	benchmarkDecide(b, bundletest.Compile(b, nil))
}

// BenchmarkDecideUncached measures the same decision with the decision cache off
// (engine.WithDecisionCache(0)): fact lookup, the policy's input and a full
// evaluation of the policy, every time.
func BenchmarkDecideUncached(b *testing.B) {
	benchmarkDecide(b, compiledWith(b, engine.WithDecisionCache(0)))
}

func benchmarkDecide(b *testing.B, p *engine.Policy) {
	svc := authz.NewService(engine.New(p), memory.New(domain.World()))
	req := &authz.Request{
		Subject:  domain.Member("developer", "active"),
		Action:   "miniprogram:update",
		Resource: authz.Resource{Workspace: domain.DeveloperHome, ID: domain.AssignedMP},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d := svc.Decide(ctx, req); !d.Allow {
			b.Fatalf("denied: %v", d.Reasons)
		}
	}
}

func compiledWith(b *testing.B, opts ...engine.CompileOption) *engine.Policy {
	b.Helper()
	bndl, err := policy.Load("")
	if err != nil {
		b.Fatal(err)
	}
	p, err := engine.Compile(context.Background(), bndl, opts...)
	if err != nil {
		b.Fatal(err)
	}
	return p
}
