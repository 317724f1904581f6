package authz_test

import (
	"context"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/test/domain"
)

// BenchmarkDecide measures one decision with and without a stale time set, the
// cost of the policy_stale guard.
func BenchmarkDecide(b *testing.B) {
	p := compiled(b)
	req := &authz.Request{
		Subject: "u-workspace_admin", Action: "workspace:view",
		Resource: authz.Resource{Workspace: domain.TenantHome},
	}
	for _, bm := range []struct {
		name    string
		staleAt time.Time
	}{
		{"never_stale", time.Time{}},
		{"stale_time_set", time.Now().Add(time.Hour)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			e := engine.New(nil)
			e.ActivateUntil(p, bm.staleAt)
			svc := authz.NewService(e, memory.New(domain.World()))
			for b.Loop() {
				if d := svc.Decide(context.Background(), req); !d.Allow {
					b.Fatal(d.Reasons)
				}
			}
		})
	}
}

// BenchmarkActive measures reading the active policy and its stale time.
func BenchmarkActive(b *testing.B) {
	e := engine.New(compiled(b))
	for b.Loop() {
		e.Active()
	}
}
