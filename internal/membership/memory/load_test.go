package memory_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
)

// manyMemberships returns n memberships, ten per user, in no particular order.
func manyMemberships(n int) *membership.Data {
	d := &membership.Data{}
	for w := range n / 10 {
		d.Workspaces = append(d.Workspaces, membership.Workspace{ID: fmt.Sprintf("tw-%06d", w), Type: "tenant"})
	}
	users := n / 10
	for i := range n {
		u, k := i%users, i/users
		d.Memberships = append(d.Memberships, membership.Membership{
			User: fmt.Sprintf("u-%06d", u), Workspace: fmt.Sprintf("tw-%06d", (u+37*k)%users),
			Role: "workspace_admin", Status: membership.StatusActive, MiniPrograms: []string{"mp-1"},
		})
	}
	return d
}

// TestNewSortsEachUsersMemberships: a store built in one go answers each user's
// memberships sorted by workspace, as one built write by write does.
func TestNewSortsEachUsersMemberships(t *testing.T) {
	d := manyMemberships(1000)
	bulk := memory.New(d)
	one := memory.New(&membership.Data{Workspaces: d.Workspaces})
	ctx := context.Background()
	if _, err := one.Import(ctx, d, false); err != nil {
		t.Fatal(err)
	}
	for u := range 100 {
		user := fmt.Sprintf("u-%06d", u)
		want, _ := one.UserMemberships(ctx, user)
		got, _ := bulk.UserMemberships(ctx, user)
		if len(got) != 10 {
			t.Fatalf("%s has %d memberships, want 10", user, len(got))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s (-imported +new):\n%s", user, diff)
		}
		for i := 1; i < len(got); i++ {
			if got[i-1].Workspace >= got[i].Workspace {
				t.Fatalf("%s's memberships are not sorted by workspace: %v", user, got)
			}
		}
	}
}

// BenchmarkNew measures building the embedded store from 100,000 memberships of
// 10,000 users, as serve does at start from the data file.
func BenchmarkNew(b *testing.B) {
	d := manyMemberships(100_000)
	b.ReportAllocs()
	for b.Loop() {
		memory.New(d)
	}
}
