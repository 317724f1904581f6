// Package memory is the embedded membership store: every fact in process memory,
// loaded from a membership data file. It is the default when no Redis is configured.
package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rolegate/rolegate/internal/membership"
)

// Store keeps workspaces and memberships in maps guarded by one lock. It is safe for
// concurrent use. A write replaces the slices it changes instead of changing them, so
// a slice a reader holds never changes under it.
type Store struct {
	mu         sync.RWMutex
	workspaces map[string]membership.Workspace
	// members holds each workspace's memberships by user.
	members map[string]map[string]membership.Membership
	// byUser holds each user's memberships, sorted by workspace; copy-on-write.
	byUser map[string][]membership.Membership
	// changed is the revision of each workspace's last change, for Update's retry.
	changed  map[string]uint64
	revision uint64
	// lookups counts Workspace and UserMemberships calls, all answered from memory.
	lookups atomic.Uint64
}

var _ membership.Store = (*Store)(nil)

// New returns a store holding the data, at revision 1. The data should have been
// validated.
func New(d *membership.Data) *Store {
	s := &Store{revision: 1}
	s.reset()
	s.load(d)
	return s
}

func (s *Store) reset() {
	s.workspaces = make(map[string]membership.Workspace)
	s.members = make(map[string]map[string]membership.Membership)
	s.byUser = make(map[string][]membership.Membership)
	s.changed = make(map[string]uint64)
}

// load adds and overwrites d's workspaces and memberships. The caller holds mu or is
// the only one with s.
func (s *Store) load(d *membership.Data) {
	for _, w := range d.Workspaces {
		s.workspaces[w.ID] = w
		s.changed[w.ID] = s.revision
	}
	added := make(map[string][]membership.Membership)
	for _, m := range d.Memberships {
		m = s.putMember(m)
		added[m.User] = append(added[m.User], m)
		s.changed[m.Workspace] = s.revision
	}
	for user, ms := range added {
		s.byUser[user] = merge(s.byUser[user], ms)
	}
}

// merge returns a new list of old's memberships and added's, sorted by workspace: one
// of added replaces old's in its workspace, and a later one of added an earlier. A
// data file's memberships are merged per user at once, so each user's list is built
// once rather than copied for every membership.
func merge(old, added []membership.Membership) []membership.Membership {
	list := make([]membership.Membership, 0, len(old)+len(added))
	list = append(append(list, old...), added...)
	slices.SortStableFunc(list, func(a, b membership.Membership) int {
		return strings.Compare(a.Workspace, b.Workspace)
	})
	out := list[:0]
	for i, m := range list {
		if i+1 < len(list) && list[i+1].Workspace == m.Workspace {
			continue // a later one replaces it
		}
		out = append(out, m)
	}
	return out
}

// put stores m. The caller holds mu.
func (s *Store) put(m membership.Membership) {
	m = s.putMember(m)
	s.byUser[m.User] = merge(s.byUser[m.User], []membership.Membership{m})
}

// putMember stores m, with a copy of its mini programs, among its workspace's
// members, and returns what it stored. The caller holds mu.
func (s *Store) putMember(m membership.Membership) membership.Membership {
	m.MiniPrograms = slices.Clone(m.MiniPrograms)
	ms := s.members[m.Workspace]
	if ms == nil {
		ms = make(map[string]membership.Membership)
		s.members[m.Workspace] = ms
	}
	ms[m.User] = m
	return m
}

// remove deletes the user's membership of the workspace. The caller holds mu.
func (s *Store) remove(workspace, user string) {
	delete(s.members[workspace], user)
	list := slices.DeleteFunc(slices.Clone(s.byUser[user]), func(m membership.Membership) bool {
		return m.Workspace == workspace
	})
	if len(list) == 0 {
		delete(s.byUser, user)
		return
	}
	s.byUser[user] = list
}

// Workspace implements membership.Reader.
func (s *Store) Workspace(_ context.Context, id string) (membership.Workspace, error) {
	s.lookups.Add(1)
	s.mu.RLock()
	defer s.mu.RUnlock()
	w, ok := s.workspaces[id]
	if !ok {
		return membership.Workspace{}, membership.ErrNotFound
	}
	return w, nil
}

// UserMemberships implements membership.Reader.
func (s *Store) UserMemberships(_ context.Context, user string) ([]membership.Membership, error) {
	s.lookups.Add(1)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byUser[user], nil
}

// Lookups returns how many facts the store looked up; every one is a hit.
func (s *Store) Lookups() membership.LookupStats {
	return membership.LookupStats{Hits: s.lookups.Load()}
}

// Revision implements membership.Reader.
func (s *Store) Revision(context.Context) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.revision, nil
}

// Members implements membership.Store; the memberships are sorted by user.
func (s *Store) Members(_ context.Context, workspace string) ([]membership.Membership, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.workspaces[workspace]; !ok {
		return nil, fmt.Errorf("members of %s: %w", workspace, membership.ErrNotFound)
	}
	ms := s.members[workspace]
	list := make([]membership.Membership, 0, len(ms))
	for _, user := range slices.Sorted(maps.Keys(ms)) {
		list = append(list, ms[user])
	}
	return list, nil
}

// Sync implements membership.Store. The store's answers always reflect its latest
// revision, so Sync waits for nothing: a revision it has not reached is ErrStale.
func (s *Store) Sync(_ context.Context, rev uint64) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if rev > s.revision {
		return fmt.Errorf("sync to revision %d, at %d: %w", rev, s.revision, membership.ErrStale)
	}
	return nil
}

// Export implements membership.Store.
func (s *Store) Export(context.Context) (*membership.Data, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := &membership.Data{
		Workspaces:  slices.AppendSeq(make([]membership.Workspace, 0, len(s.workspaces)), maps.Values(s.workspaces)),
		Memberships: []membership.Membership{},
	}
	for _, ms := range s.members {
		for _, m := range ms {
			d.Memberships = append(d.Memberships, m)
		}
	}
	d.Sort()
	return d, nil
}

// Ping implements membership.Store; the embedded store is always reachable.
func (s *Store) Ping(context.Context) error { return nil }

// Close implements membership.Store; there is nothing to release.
func (s *Store) Close() error { return nil }
