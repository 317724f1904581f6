package authz_test

import (
	"context"
	"testing"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/test/domain"
)

// BenchmarkDecide measures one decision in process: fact lookup in the embedded store
// and evaluation of the policy.
func BenchmarkDecide(b *testing.B) {
	svc := authz.NewService(engine.New(compiled(b)), memory.New(domain.World()))
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
