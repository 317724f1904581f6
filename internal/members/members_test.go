package members_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/members"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/membership/redis"
	"github.com/rolegate/rolegate/internal/policy"
	"github.com/rolegate/rolegate/policies"
	"github.com/rolegate/rolegate/test/redistest"
)

// clock is a settable time for invitation expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// world is a tenant with one merchant: u-ann and u-amy admin the tenant, u-dana admins
// the merchant, u-dev develops there.
func world() *membership.Data {
	return &membership.Data{
		Workspaces: []membership.Workspace{
			{ID: "tw-alpha", Type: membership.TypeTenant},
			{ID: "dw-shop", Type: membership.TypeDeveloper, Tenant: "tw-alpha"},
		},
		Memberships: []membership.Membership{
			{User: "u-ann", Workspace: "tw-alpha", Role: "workspace_admin", Status: membership.StatusActive},
			{User: "u-amy", Workspace: "tw-alpha", Role: "workspace_admin", Status: membership.StatusActive},
			{User: "u-dana", Workspace: "dw-shop", Role: "developer_admin", Status: membership.StatusActive},
			{
				User: "u-dev", Workspace: "dw-shop", Role: "developer", Status: membership.StatusActive,
				MiniPrograms: []string{"mp-1"},
			},
		},
	}
}

type fixture struct {
	m     *members.Manager
	store membership.Store
	clock *clock
}

// stores opens the stores the lifecycle is tested on: embedded and Redis.
func stores(t *testing.T) map[string]func(t *testing.T) membership.Store {
	return map[string]func(t *testing.T) membership.Store{
		"memory": func(t *testing.T) membership.Store { return memory.New(world()) },
		"redis": func(t *testing.T) membership.Store {
			srv := redistest.Start(t, redistest.Options{})
			cfg := redis.DefaultConfig()
			cfg.URL = srv.URL()
			s, err := redis.Open(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if _, err := s.Import(context.Background(), world(), true); err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

func newFixture(t *testing.T, store membership.Store) *fixture {
	t.Helper()
	b, err := policy.Load("")
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.Compile(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	svc := authz.NewService(engine.New(p), store)
	return &fixture{m: members.New(store, svc, c.Now), store: store, clock: c}
}

// code returns the lifecycle error's code, or "" for nil.
func code(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *members.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *members.Error", err)
	}
	return e.Code
}

func (f *fixture) member(t *testing.T, workspace, user string) (membership.Membership, bool) {
	t.Helper()
	list, err := f.store.Members(context.Background(), workspace)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.User == user {
			return m, true
		}
	}
	return membership.Membership{}, false
}

func TestLifecycle(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, open(t))
			ctx := context.Background()

			inv, err := f.m.Invite(ctx, "u-dana", "dw-shop",
				members.Invitation{User: "u-new", Role: "operator", MiniPrograms: []string{"mp-1"}})
			if err != nil {
				t.Fatal(err)
			}
			want := membership.Membership{
				User: "u-new", Workspace: "dw-shop", Role: "operator", Status: membership.StatusInvited,
				MiniPrograms: []string{"mp-1"}, ExpiresAt: f.clock.Now().Add(membership.InvitationTTL),
			}
			if diff := cmp.Diff(want, inv.Membership); diff != "" || inv.Revision == 0 {
				t.Fatalf("invitation (-want +got):\n%s revision %d", diff, inv.Revision)
			}

			acc, err := f.m.Accept(ctx, "u-new", "dw-shop")
			if err != nil || acc.Membership.Status != membership.StatusActive || acc.Revision <= inv.Revision {
				t.Fatalf("accept: %+v, %v", acc, err)
			}
			steps := []struct {
				name string
				do   func() (members.Result, error)
				want membership.Status
				role string
			}{
				{"assign role", func() (members.Result, error) {
					return f.m.AssignRole(ctx, "u-dana", "dw-shop", "u-new", "developer", []string{"mp-2"})
				}, membership.StatusActive, "developer"},
				{
					"block", func() (members.Result, error) { return f.m.Block(ctx, "u-dana", "dw-shop", "u-new") },
					membership.StatusBlocked, "developer",
				},
				{
					"unblock", func() (members.Result, error) { return f.m.Unblock(ctx, "u-dana", "dw-shop", "u-new") },
					membership.StatusActive, "developer",
				},
			}
			last := acc.Revision
			for _, s := range steps {
				res, err := s.do()
				if err != nil || res.Membership.Status != s.want || res.Membership.Role != s.role || res.Revision <= last {
					t.Fatalf("%s: %+v, %v", s.name, res, err)
				}
				last = res.Revision
				if got, _ := f.member(t, "dw-shop", "u-new"); got.Status != s.want {
					t.Fatalf("%s: the store holds %+v", s.name, got)
				}
			}
			if _, err := f.m.Remove(ctx, "u-dana", "dw-shop", "u-new"); err != nil {
				t.Fatal(err)
			}
			if _, ok := f.member(t, "dw-shop", "u-new"); ok {
				t.Fatal("removed member is still there")
			}
		})
	}
}

func TestInvitations(t *testing.T) {
	f := newFixture(t, memory.New(world()))
	ctx := context.Background()
	invite := func() error {
		_, err := f.m.Invite(ctx, "u-dana", "dw-shop", members.Invitation{User: "u-new", Role: "operator"})
		return err
	}
	if err := invite(); err != nil {
		t.Fatal(err)
	}
	if c := code(t, invite()); c != "already_member" {
		t.Fatalf("second invitation: %q, want already_member", c)
	}
	if _, err := f.m.Accept(ctx, "u-other", "dw-shop"); code(t, err) != "invitation_not_found" {
		t.Fatalf("accepting someone else's invitation: %v", err)
	}

	f.clock.Add(membership.InvitationTTL + time.Second)
	if _, err := f.m.Accept(ctx, "u-new", "dw-shop"); code(t, err) != "invitation_expired" {
		t.Fatalf("accepting an expired invitation: %v", err)
	}
	if err := invite(); err != nil {
		t.Fatalf("inviting again after expiry: %v", err)
	}
	f.clock.Add(membership.InvitationTTL + time.Second)
	res, err := f.m.Resend(ctx, "u-dana", "dw-shop", "u-new")
	if err != nil || !res.Membership.ExpiresAt.After(f.clock.Now()) {
		t.Fatalf("resend: %+v, %v", res, err)
	}
	if _, err := f.m.Accept(ctx, "u-new", "dw-shop"); err != nil {
		t.Fatalf("accepting a resent invitation: %v", err)
	}
	if _, err := f.m.Withdraw(ctx, "u-dana", "dw-shop", "u-new"); code(t, err) != "not_invited" {
		t.Fatalf("withdrawing an accepted invitation: %v", err)
	}
	if _, err := f.m.Resend(ctx, "u-dana", "dw-shop", "u-new"); code(t, err) != "not_invited" {
		t.Fatalf("resending to an active member: %v", err)
	}

	if _, err := f.m.Invite(ctx, "u-dana", "dw-shop", members.Invitation{User: "u-w", Role: "operator"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Withdraw(ctx, "u-dana", "dw-shop", "u-w"); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	if _, ok := f.member(t, "dw-shop", "u-w"); ok {
		t.Fatal("a withdrawn invitation is still there")
	}
}

func TestInvariantsAndRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		do   func(m *members.Manager) error
		want string
	}{
		{"a non-admin invites", func(m *members.Manager) error {
			_, err := m.Invite(ctx, "u-dev", "dw-shop", members.Invitation{User: "u-x", Role: "operator"})
			return err
		}, "operation_not_granted"},
		{"an admin of another workspace acts here", func(m *members.Manager) error {
			_, err := m.Block(ctx, "u-ann", "dw-shop", "u-dev")
			return err
		}, "outside_scope"},
		{"a stranger lists", func(m *members.Manager) error {
			_, _, err := m.List(ctx, "u-nobody", "dw-shop")
			return err
		}, "no_membership"},
		{"a role of the other workspace type", func(m *members.Manager) error {
			_, err := m.Invite(ctx, "u-dana", "dw-shop", members.Invitation{User: "u-x", Role: "workspace_admin"})
			return err
		}, "role_workspace_mismatch"},
		{"an unknown role", func(m *members.Manager) error {
			_, err := m.AssignRole(ctx, "u-dana", "dw-shop", "u-dev", "janitor", nil)
			return err
		}, "role_workspace_mismatch"},
		{"a role change without a role", func(m *members.Manager) error {
			_, err := m.AssignRole(ctx, "u-dana", "dw-shop", "u-dev", "", nil)
			return err
		}, "invalid_field"},
		{"an admin demotes themselves", func(m *members.Manager) error {
			_, err := m.AssignRole(ctx, "u-dana", "dw-shop", "u-dana", "developer", nil)
			return err
		}, "self_membership_change"},
		{"an admin blocks themselves", func(m *members.Manager) error {
			_, err := m.Block(ctx, "u-ann", "tw-alpha", "u-ann")
			return err
		}, "self_membership_change"},
		{"a member removed from nowhere", func(m *members.Manager) error {
			_, err := m.Remove(ctx, "u-dana", "dw-shop", "u-ghost")
			return err
		}, "member_not_found"},
		{"a workspace that does not exist", func(m *members.Manager) error {
			_, _, err := m.List(ctx, "u-dana", "dw-none")
			return err
		}, "unknown_workspace"},
		{"blocking a blocked member", func(m *members.Manager) error {
			if _, err := m.Block(ctx, "u-dana", "dw-shop", "u-dev"); err != nil {
				return err
			}
			_, err := m.Block(ctx, "u-dana", "dw-shop", "u-dev")
			return err
		}, "not_active"},
		{"unblocking an active member", func(m *members.Manager) error {
			_, err := m.Unblock(ctx, "u-dana", "dw-shop", "u-dev")
			return err
		}, "not_blocked"},
		{"the last active admin is demoted", func(m *members.Manager) error {
			if _, err := m.Block(ctx, "u-ann", "tw-alpha", "u-amy"); err != nil {
				return err
			}
			_, err := m.AssignRole(ctx, "u-amy", "tw-alpha", "u-ann", "workspace_reviewer", nil)
			return err
		}, "member_blocked"},
		{"the tenant's admins demote each other down to none", func(m *members.Manager) error {
			if _, err := m.AssignRole(ctx, "u-ann", "tw-alpha", "u-amy", "workspace_reviewer", nil); err != nil {
				return err
			}
			_, err := m.AssignRole(ctx, "u-amy", "tw-alpha", "u-ann", "workspace_reviewer", nil)
			return err
		}, "operation_not_granted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, memory.New(world()))
			if got := code(t, tt.do(f.m)); got != tt.want {
				t.Fatalf("code %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLastActiveAdminIsKept(t *testing.T) {
	f := newFixture(t, memory.New(world()))
	ctx := context.Background()
	invitation := members.Invitation{User: "u-two", Role: "developer_admin"}
	if _, err := f.m.Invite(ctx, "u-dana", "dw-shop", invitation); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Accept(ctx, "u-two", "dw-shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Remove(ctx, "u-two", "dw-shop", "u-dana"); err != nil {
		t.Fatalf("removing one of two admins: %v", err)
	}
	list, _, err := f.m.List(ctx, "u-two", "dw-shop")
	if err != nil {
		t.Fatal(err)
	}
	admins := 0
	for _, m := range list {
		if m.Role == "developer_admin" && m.Status == membership.StatusActive {
			admins++
		}
	}
	if admins != 1 {
		t.Fatalf("%d active admins left, want 1", admins)
	}
	// u-two cannot change their own membership; a reviewer-less workspace keeps its admin.
	if _, err := f.m.Remove(ctx, "u-two", "dw-shop", "u-two"); code(t, err) != "self_membership_change" {
		t.Fatalf("the last admin removed themselves: %v", err)
	}
}

// TestActorCheckedInsideTheWrite: the policy is asked on the actor's membership as
// the write reads it, so an admin demoted a moment ago cannot act on a cached grant.
func TestActorCheckedInsideTheWrite(t *testing.T) {
	f := newFixture(t, memory.New(world()))
	ctx := context.Background()
	if _, err := f.m.AssignRole(ctx, "u-ann", "tw-alpha", "u-amy", "workspace_reviewer", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Block(ctx, "u-amy", "tw-alpha", "u-ann"); code(t, err) != "operation_not_granted" {
		t.Fatalf("a demoted admin blocked someone: %v", err)
	}
}

func TestCreateWorkspace(t *testing.T) {
	f := newFixture(t, memory.New(world()))
	ctx := context.Background()
	rev, err := f.m.CreateWorkspace(ctx, membership.Workspace{ID: "dw-new", Type: "developer", Tenant: "tw-alpha"},
		[]members.FirstAdmin{{User: "u-owner"}})
	if err != nil || rev == 0 {
		t.Fatalf("create: %d, %v", rev, err)
	}
	m, ok := f.member(t, "dw-new", "u-owner")
	if !ok || m.Role != "developer_admin" || m.Status != membership.StatusActive {
		t.Fatalf("first admin %+v", m)
	}
	tests := []struct {
		name   string
		w      membership.Workspace
		admins []members.FirstAdmin
		want   string
	}{
		{
			"taken id",
			membership.Workspace{ID: "dw-new", Type: "developer", Tenant: "tw-alpha"},
			[]members.FirstAdmin{{User: "u-x"}},
			"workspace_exists",
		},
		{
			"unknown tenant",
			membership.Workspace{ID: "dw-y", Type: "developer", Tenant: "tw-none"},
			[]members.FirstAdmin{{User: "u-x"}},
			"tenant_not_found",
		},
		{"no admin", membership.Workspace{ID: "tw-y", Type: "tenant"}, nil, "invalid_field"},
		{
			"a developer workspace as the tenant",
			membership.Workspace{ID: "dw-y", Type: "developer", Tenant: "dw-new"},
			[]members.FirstAdmin{{User: "u-x"}},
			"tenant_not_tenant",
		},
		{
			"an id that is no path segment",
			membership.Workspace{ID: "tw/y z", Type: "tenant"},
			[]members.FirstAdmin{{User: "u-x"}},
			"invalid_field",
		},
		{
			"a non-admin first member",
			membership.Workspace{ID: "tw-y", Type: "tenant"},
			[]members.FirstAdmin{{User: "u-x", Role: "workspace_operator"}},
			"invalid_field",
		},
		{
			"developer without tenant",
			membership.Workspace{ID: "dw-y", Type: "developer"},
			[]members.FirstAdmin{{User: "u-x"}},
			"invalid_field",
		},
		{
			"unknown type",
			membership.Workspace{ID: "xw", Type: "shop"},
			[]members.FirstAdmin{{User: "u-x"}},
			"invalid_field",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.m.CreateWorkspace(ctx, tt.w, tt.admins)
			if got := code(t, err); got != tt.want {
				t.Fatalf("code %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}

// TestLastAdminHoldsWhateverThePolicy: with a policy that lets an admin change their
// own membership, the store's invariant still keeps one active admin.
func TestLastAdminHoldsWhateverThePolicy(t *testing.T) {
	src, err := fs.ReadFile(policies.FS, "rolegate/model/model.rego")
	if err != nil {
		t.Fatal(err)
	}
	lax := strings.ReplaceAll(string(src), `"not_self", `, ``)
	lax = strings.ReplaceAll(lax, `{"conditions": ["not_self"]}`, `{}`)
	p := bundletest.Compile(t, map[string]string{"rolegate/model/model.rego": lax})
	store := memory.New(world())
	m := members.New(store, authz.NewService(engine.New(p), store), nil)
	ctx := context.Background()

	for _, tt := range []struct {
		name string
		do   func() error
	}{
		{"demote", func() error {
			_, err := m.AssignRole(ctx, "u-dana", "dw-shop", "u-dana", "developer", nil)
			return err
		}},
		{"block", func() error { _, err := m.Block(ctx, "u-dana", "dw-shop", "u-dana"); return err }},
		{"remove", func() error { _, err := m.Remove(ctx, "u-dana", "dw-shop", "u-dana"); return err }},
	} {
		err := tt.do()
		if got := code(t, err); got != "last_admin" {
			t.Errorf("%s the last admin: code %q, want last_admin", tt.name, got)
		}
		var e *members.Error
		if errors.As(err, &e) && e.Kind != members.KindForbidden {
			t.Errorf("%s the last admin: kind %v, want KindForbidden (403)", tt.name, e.Kind)
		}
	}
}
