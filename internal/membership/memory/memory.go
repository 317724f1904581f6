// Package memory is the embedded membership store: every fact in process memory,
// loaded from a membership data file. It is the default when no Redis is configured.
package memory

import (
	"context"
	"sync"

	"github.com/rolegate/rolegate/internal/membership"
)

// Store keeps workspaces and memberships in maps guarded by one lock. It is safe for
// concurrent use.
type Store struct {
	mu         sync.RWMutex
	workspaces map[string]membership.Workspace
	byUser     map[string][]membership.Membership
	revision   uint64
}

// New returns a store holding the data, at revision 1. The data should have been
// validated.
func New(d *membership.Data) *Store {
	s := &Store{
		workspaces: make(map[string]membership.Workspace, len(d.Workspaces)),
		byUser:     make(map[string][]membership.Membership),
		revision:   1,
	}
	for _, w := range d.Workspaces {
		s.workspaces[w.ID] = w
	}
	for _, m := range d.Memberships {
		s.byUser[m.User] = append(s.byUser[m.User], m)
	}
	return s
}

// Workspace implements membership.Reader.
func (s *Store) Workspace(_ context.Context, id string) (membership.Workspace, error) {
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
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byUser[user], nil
}

// Revision implements membership.Reader.
func (s *Store) Revision(context.Context) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.revision, nil
}

// Ping reports that the store is reachable, which it always is.
func (s *Store) Ping(context.Context) error { return nil }
