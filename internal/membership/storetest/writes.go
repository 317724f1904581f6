package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/rolegate/rolegate/internal/membership"
)

func testCreate(t *testing.T, s membership.Store) {
	ctx := Context(t)
	before := revision(t, s)
	tw := membership.Workspace{ID: "tw-a", Type: membership.TypeTenant}
	admins := []membership.Membership{
		active("u-ann", "tw-a", "workspace_admin"), active("u-amy", "tw-a", "workspace_admin"),
	}
	rev, err := s.CreateWorkspace(ctx, tw, admins)
	if err != nil {
		t.Fatal(err)
	}
	if rev <= before {
		t.Errorf("create returned revision %d, want more than %d", rev, before)
	}
	dw := membership.Workspace{ID: "dw-x", Type: membership.TypeDeveloper, Tenant: "tw-a"}
	rev2, err := s.CreateWorkspace(ctx, dw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rev2 <= rev {
		t.Errorf("second create returned revision %d, want more than %d", rev2, rev)
	}
	sync(t, s, rev2)

	for _, want := range []membership.Workspace{tw, dw} {
		if got, err := s.Workspace(ctx, want.ID); err != nil || got != want {
			t.Errorf("workspace %s = %v, %v; want %v", want.ID, got, err, want)
		}
	}
	if diff := Diff([]membership.Membership{admins[1], admins[0]}, members(t, s, "tw-a")); diff != "" {
		t.Errorf("members of tw-a, sorted by user (-want +got):\n%s", diff)
	}
	if ms := members(t, s, "dw-x"); len(ms) != 0 {
		t.Errorf("members of dw-x = %v, want none", ms)
	}
	if diff := Diff(admins[:1], userMemberships(t, s, "u-ann")); diff != "" {
		t.Errorf("memberships of u-ann (-want +got):\n%s", diff)
	}
}

func testCreateRefusals(t *testing.T, s membership.Store) {
	rev := load(t, s, Sample())
	tests := []struct {
		name    string
		w       membership.Workspace
		first   []membership.Membership
		wantErr error // nil: any error
	}{
		{"id taken", membership.Workspace{ID: "tw-a", Type: membership.TypeTenant}, nil, membership.ErrExists},
		{
			"tenant unknown",
			membership.Workspace{ID: "dw-y", Type: membership.TypeDeveloper, Tenant: "tw-none"},
			nil, membership.ErrNotFound,
		},
		{
			"tenant is a developer workspace",
			membership.Workspace{ID: "dw-y", Type: membership.TypeDeveloper, Tenant: "dw-x"},
			nil, membership.ErrNotTenant,
		},
		{"developer without tenant", membership.Workspace{ID: "dw-y", Type: membership.TypeDeveloper}, nil, nil},
		{"unknown type", membership.Workspace{ID: "sw-y", Type: "shop"}, nil, nil},
		{"no id", membership.Workspace{Type: membership.TypeTenant}, nil, nil},
		{"id not a path segment", membership.Workspace{ID: "tw/c d", Type: membership.TypeTenant}, nil, nil},
		{
			"member of another workspace",
			membership.Workspace{ID: "tw-c", Type: membership.TypeTenant},
			[]membership.Membership{active("u-ann", "tw-a", "workspace_admin")},
			nil,
		},
		{
			"member twice",
			membership.Workspace{ID: "tw-c", Type: membership.TypeTenant},
			[]membership.Membership{active("u-c", "tw-c", "workspace_admin"), active("u-c", "tw-c", "workspace_admin")},
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.CreateWorkspace(Context(t), tt.w, tt.first)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if got := revision(t, s); got != rev {
		t.Errorf("revision after refused creates = %d, want %d", got, rev)
	}
	if diff := Diff(sorted(Sample()), export(t, s)); diff != "" {
		t.Errorf("refused creates changed the store (-want +got):\n%s", diff)
	}
}

func testUpdate(t *testing.T, s membership.Store) {
	ctx := Context(t)
	before := load(t, s, Sample())
	rev, err := s.Update(ctx, "tw-a", func(tx *membership.Tx) error {
		if tx.Workspace.ID != "tw-a" || len(tx.Members) != 3 {
			return fmt.Errorf("tx = %+v", tx)
		}
		m := tx.Members["u-nina"]
		m.Status, m.ExpiresAt = membership.StatusActive, m.ExpiresAt.AddDate(-100, 0, 0)
		tx.Put(m)
		tx.Put(active("u-zoe", "tw-a", "workspace_operator"))
		tx.Delete("u-rita")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rev != before+1 {
		t.Errorf("update returned revision %d, want %d", rev, before+1)
	}
	sync(t, s, rev)

	nina := Sample().Memberships[2]
	nina.Status, nina.ExpiresAt = membership.StatusActive, nina.ExpiresAt.AddDate(-100, 0, 0)
	want := []membership.Membership{
		active("u-ann", "tw-a", "workspace_admin"), nina,
		active("u-zoe", "tw-a", "workspace_operator"),
	}
	if diff := Diff(want, members(t, s, "tw-a")); diff != "" {
		t.Errorf("members of tw-a (-want +got):\n%s", diff)
	}
	if ms := userMemberships(t, s, "u-rita"); len(ms) != 0 {
		t.Errorf("memberships of the removed u-rita = %v, want none", ms)
	}
	if diff := Diff([]membership.Membership{nina}, userMemberships(t, s, "u-nina")); diff != "" {
		t.Errorf("memberships of u-nina (-want +got):\n%s", diff)
	}
}

func testUpdateRefusals(t *testing.T, s membership.Store) {
	rev := load(t, s, Sample())
	errFn := errors.New("refused by fn")
	tests := []struct {
		name      string
		workspace string
		fn        func(tx *membership.Tx) error
		wantErr   error // nil: any error
	}{
		{"unknown workspace", "tw-none", func(*membership.Tx) error { return nil }, membership.ErrNotFound},
		{"fn fails", "tw-a", func(tx *membership.Tx) error {
			tx.Delete("u-ann")
			return errFn
		}, errFn},
		{"put into another workspace", "tw-a", func(tx *membership.Tx) error {
			tx.Delete("u-ann")
			tx.Put(active("u-ann", "tw-b", "workspace_admin"))
			return nil
		}, nil},
		{"put without a user", "tw-a", func(tx *membership.Tx) error {
			tx.Put(active("", "tw-a", "workspace_admin"))
			return nil
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Update(Context(t), tt.workspace, tt.fn)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if got := revision(t, s); got != rev {
		t.Errorf("revision after refused updates = %d, want %d", got, rev)
	}
	if diff := Diff(sorted(Sample()), export(t, s)); diff != "" {
		t.Errorf("refused updates changed the store (-want +got):\n%s", diff)
	}
}

func testUpdateNoChange(t *testing.T, s membership.Store) {
	before := load(t, s, Sample())
	rev, err := s.Update(Context(t), "tw-a", func(tx *membership.Tx) error {
		tx.Put(tx.Members["u-ann"])
		tx.Delete("u-nobody")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rev != before || revision(t, s) != before {
		t.Errorf("an update without changes returned revision %d, want %d unchanged", rev, before)
	}
}

// testUpdateConflict commits a write to the workspace while fn runs: the Update must
// not commit over it, and runs fn again on the new state.
func testUpdateConflict(t *testing.T, s membership.Store) {
	ctx := Context(t)
	load(t, s, Sample())
	runs := 0
	_, err := s.Update(ctx, "tw-b", func(tx *membership.Tx) error {
		runs++
		if runs == 1 {
			if _, err := s.Update(ctx, "tw-b", func(inner *membership.Tx) error {
				inner.Put(active("u-inner", "tw-b", "workspace_operator"))
				return nil
			}); err != nil {
				return fmt.Errorf("inner update: %w", err)
			}
		}
		tx.Put(active(fmt.Sprintf("u-outer-%d", len(tx.Members)), "tw-b", "workspace_reviewer"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs < 2 {
		t.Errorf("fn ran %d time(s), want again after the conflicting write", runs)
	}
	var users []string
	for _, m := range members(t, s, "tw-b") {
		users = append(users, m.User)
	}
	if diff := Diff([]string{"u-bob", "u-inner", "u-outer-3", "u-tom"}, users); diff != "" {
		t.Errorf("members of tw-b (-want +got):\n%s", diff)
	}
}

func testConcurrentUpdates(t *testing.T, s membership.Store) {
	before := load(t, s, Sample())
	const writers = 12
	revs := make(chan uint64, writers)
	var failed atomic.Int32
	for i := range writers {
		go func() {
			rev, err := s.Update(Context(t), "tw-b", func(tx *membership.Tx) error {
				tx.Put(active(fmt.Sprintf("u-w%02d", i), "tw-b", "workspace_operator"))
				return nil
			})
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
				failed.Add(1)
			}
			revs <- rev
		}()
	}
	seen := map[uint64]bool{}
	for range writers {
		rev := <-revs
		if failed.Load() == 0 && (rev <= before || seen[rev]) {
			t.Errorf("revision %d returned twice or not above %d", rev, before)
		}
		seen[rev] = true
	}
	if got := len(members(t, s, "tw-b")); got != 2+writers {
		t.Errorf("tw-b has %d members, want %d: an update was lost", got, 2+writers)
	}
}

func testRevisionMonotonic(t *testing.T, s membership.Store) {
	ctx := Context(t)
	last := revision(t, s)
	step := func(name string, rev uint64, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rev <= last {
			t.Fatalf("%s returned revision %d after %d", name, rev, last)
		}
		last = rev
		sync(t, s, rev)
		if got := revision(t, s); got < rev {
			t.Fatalf("revision after %s and sync = %d, want at least %d", name, got, rev)
		}
	}
	rev, err := s.Import(ctx, Sample(), false)
	step("import", rev, err)
	rev, err = s.CreateWorkspace(ctx, membership.Workspace{ID: "tw-c", Type: membership.TypeTenant}, nil)
	step("create", rev, err)
	for i := range 3 {
		rev, err = s.Update(ctx, "tw-c", func(tx *membership.Tx) error {
			tx.Put(active(fmt.Sprintf("u-%d", i), "tw-c", "workspace_admin"))
			return nil
		})
		step("update", rev, err)
	}
	rev, err = s.Import(ctx, Sample(), true)
	step("replace", rev, err)
}

// testNoHalfWrites flips two memberships in every update while readers look: a reader
// sees both old or both new, never one of each.
func testNoHalfWrites(t *testing.T, s membership.Store) {
	ctx := Context(t)
	load(t, s, Sample())
	flip := func(status membership.Status) {
		t.Helper()
		if _, err := s.Update(ctx, "tw-b", func(tx *membership.Tx) error {
			for _, user := range []string{"u-bob", "u-tom"} {
				m := tx.Members[user]
				m.Status = status
				tx.Put(m)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	flip(membership.StatusActive)
	done := make(chan struct{})
	readers := make(chan error, 2)
	for range 2 {
		go func() { readers <- readPairs(s, "tw-b", done) }()
	}
	for i := range 20 {
		flip([]membership.Status{membership.StatusBlocked, membership.StatusActive}[i%2])
	}
	close(done)
	for range 2 {
		if err := <-readers; err != nil {
			t.Error(err)
		}
	}
}

func readPairs(s membership.Store, workspace string, done <-chan struct{}) error {
	for {
		select {
		case <-done:
			return nil
		default:
		}
		ms, err := s.Members(context.Background(), workspace)
		if err != nil {
			return err
		}
		if len(ms) != 2 || (ms[0].Status == membership.StatusActive) != (ms[1].Status == membership.StatusActive) {
			return fmt.Errorf("a reader saw half a write: %v", ms)
		}
	}
}
