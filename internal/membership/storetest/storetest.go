// Package storetest is the contract every membership.Store obeys, as one test suite
// that each implementation runs against itself: the embedded store, a single Redis and
// a Redis Cluster.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rolegate/rolegate/internal/membership"
)

// Open returns a new, empty store for one test; the test's cleanup closes it.
type Open func(t *testing.T) membership.Store

// Run runs the whole contract against the stores open returns, each subtest on a
// store of its own.
func Run(t *testing.T, open Open) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s membership.Store)
	}{
		{"empty store", testEmpty},
		{"create workspace", testCreate},
		{"create refusals", testCreateRefusals},
		{"update puts and deletes", testUpdate},
		{"update refusals commit nothing", testUpdateRefusals},
		{"update without changes", testUpdateNoChange},
		{"update runs again after a conflict", testUpdateConflict},
		{"concurrent updates lose nothing", testConcurrentUpdates},
		{"readers never see half a write", testNoHalfWrites},
		{"revision grows with every write", testRevisionMonotonic},
		{"import merges", testImportMerge},
		{"import replaces", testImportReplace},
		{"export round trip", testExportRoundTrip},
		{"readers see writes", testReadersSeeWrites},
		{"sync", testSync},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// Context returns a context that ends with the test or after a minute.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Sample returns membership data with both workspace types, every status, assigned
// mini programs and an invitation that expires.
func Sample() *membership.Data {
	expires := time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("UTC+8", 8*3600))
	return &membership.Data{
		Workspaces: []membership.Workspace{
			{ID: "tw-a", Type: membership.TypeTenant},
			{ID: "tw-b", Type: membership.TypeTenant},
			{ID: "dw-x", Type: membership.TypeDeveloper, Tenant: "tw-a"},
		},
		Memberships: []membership.Membership{
			active("u-ann", "tw-a", "workspace_admin"),
			{
				User: "u-rita", Workspace: "tw-a", Role: "workspace_reviewer", Status: membership.StatusActive,
				MiniPrograms: []string{"mp-1", "mp-2"},
			},
			{
				User: "u-nina", Workspace: "tw-a", Role: "workspace_developer", Status: membership.StatusInvited,
				ExpiresAt: expires,
			},
			active("u-bob", "tw-b", "workspace_admin"),
			{User: "u-tom", Workspace: "tw-b", Role: "workspace_operator", Status: membership.StatusBlocked},
			active("u-dana", "dw-x", "developer_admin"),
			active("u-ann", "dw-x", "developer"),
		},
	}
}

func active(user, workspace, role string) membership.Membership {
	return membership.Membership{User: user, Workspace: workspace, Role: role, Status: membership.StatusActive}
}

// diffOpts treat a nil and an empty list alike and compare times with Equal.
var diffOpts = []cmp.Option{cmpopts.EquateEmpty()}

// Diff reports the differences between two values of the membership types.
func Diff(want, got any) string { return cmp.Diff(want, got, diffOpts...) }

// load imports d into s, replacing everything, and returns the revision.
func load(t *testing.T, s membership.Store, d *membership.Data) uint64 {
	t.Helper()
	rev, err := s.Import(Context(t), d, true)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	sync(t, s, rev)
	return rev
}

// sync waits until s reflects rev.
func sync(t *testing.T, s membership.Store, rev uint64) {
	t.Helper()
	if err := s.Sync(Context(t), rev); err != nil {
		t.Fatalf("sync to %d: %v", rev, err)
	}
}

func revision(t *testing.T, s membership.Store) uint64 {
	t.Helper()
	rev, err := s.Revision(Context(t))
	if err != nil {
		t.Fatalf("revision: %v", err)
	}
	return rev
}

func userMemberships(t *testing.T, s membership.Store, user string) []membership.Membership {
	t.Helper()
	ms, err := s.UserMemberships(Context(t), user)
	if err != nil {
		t.Fatalf("memberships of %s: %v", user, err)
	}
	return ms
}

func members(t *testing.T, s membership.Store, workspace string) []membership.Membership {
	t.Helper()
	ms, err := s.Members(Context(t), workspace)
	if err != nil {
		t.Fatalf("members of %s: %v", workspace, err)
	}
	return ms
}

func export(t *testing.T, s membership.Store) *membership.Data {
	t.Helper()
	d, err := s.Export(Context(t))
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return d
}

func sorted(d *membership.Data) *membership.Data {
	c := &membership.Data{
		Workspaces:  append([]membership.Workspace{}, d.Workspaces...),
		Memberships: append([]membership.Membership{}, d.Memberships...),
	}
	c.Sort()
	return c
}

func testEmpty(t *testing.T, s membership.Store) {
	ctx := Context(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if _, err := s.Workspace(ctx, "tw-none"); !errors.Is(err, membership.ErrNotFound) {
		t.Errorf("workspace of an empty store: error %v, want ErrNotFound", err)
	}
	if ms := userMemberships(t, s, "u-none"); len(ms) != 0 {
		t.Errorf("memberships of an unknown user = %v, want none", ms)
	}
	if _, err := s.Members(ctx, "tw-none"); !errors.Is(err, membership.ErrNotFound) {
		t.Errorf("members of an unknown workspace: error %v, want ErrNotFound", err)
	}
	if diff := Diff(&membership.Data{}, export(t, s)); diff != "" {
		t.Errorf("export of an empty store (-want +got):\n%s", diff)
	}
	revision(t, s)
}

func testReadersSeeWrites(t *testing.T, s membership.Store) {
	ctx := Context(t)
	load(t, s, Sample())
	// Read first, so that a cache holds the facts the writes below change.
	if got := userMemberships(t, s, "u-dana"); len(got) != 1 || got[0].Status != membership.StatusActive {
		t.Fatalf("memberships of u-dana = %v", got)
	}
	if _, err := s.Workspace(ctx, "dw-y"); !errors.Is(err, membership.ErrNotFound) {
		t.Fatalf("workspace dw-y: error %v, want ErrNotFound", err)
	}

	rev, err := s.Update(ctx, "dw-x", func(tx *membership.Tx) error {
		m := tx.Members["u-dana"]
		m.Status = membership.StatusBlocked
		tx.Put(m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dw := membership.Workspace{ID: "dw-y", Type: membership.TypeDeveloper, Tenant: "tw-a"}
	rev2, err := s.CreateWorkspace(ctx, dw, []membership.Membership{active("u-dana", "dw-y", "developer_admin")})
	if err != nil {
		t.Fatal(err)
	}
	sync(t, s, max(rev, rev2))

	got := userMemberships(t, s, "u-dana")
	want := []membership.Membership{
		{User: "u-dana", Workspace: "dw-x", Role: "developer_admin", Status: membership.StatusBlocked},
		active("u-dana", "dw-y", "developer_admin"),
	}
	if diff := Diff(want, got); diff != "" {
		t.Errorf("memberships of u-dana after the writes (-want +got):\n%s", diff)
	}
	if w, err := s.Workspace(ctx, "dw-y"); err != nil || w != dw {
		t.Errorf("workspace dw-y = %v, %v; want %v", w, err, dw)
	}
	if r := revision(t, s); r < max(rev, rev2) {
		t.Errorf("revision after sync = %d, want at least %d", r, max(rev, rev2))
	}
}

func testSync(t *testing.T, s membership.Store) {
	rev := load(t, s, Sample())
	sync(t, s, rev)
	sync(t, s, rev-1)

	ctx, cancel := context.WithTimeout(Context(t), 300*time.Millisecond)
	defer cancel()
	if err := s.Sync(ctx, rev+1000); !errors.Is(err, membership.ErrStale) {
		t.Fatalf("sync to a revision never written: error %v, want ErrStale", err)
	}
}
