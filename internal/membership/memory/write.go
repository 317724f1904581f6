package memory

import (
	"context"
	"fmt"
	"maps"

	"github.com/rolegate/rolegate/internal/membership"
)

// CreateWorkspace implements membership.Store.
func (s *Store) CreateWorkspace(_ context.Context, w membership.Workspace,
	first []membership.Membership,
) (uint64, error) {
	if err := membership.CheckCreate(w, first); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.workspaces[w.ID]; ok {
		return 0, fmt.Errorf("create workspace %s: %w", w.ID, membership.ErrExists)
	}
	if w.Type == membership.TypeDeveloper {
		t, ok := s.workspaces[w.Tenant]
		if !ok {
			return 0, fmt.Errorf("create workspace %s: tenant %s: %w", w.ID, w.Tenant, membership.ErrNotFound)
		}
		if t.Type != membership.TypeTenant {
			return 0, fmt.Errorf("create workspace %s: tenant %s: %w", w.ID, w.Tenant, membership.ErrNotTenant)
		}
	}

	s.revision++
	s.workspaces[w.ID] = w
	s.changed[w.ID] = s.revision
	for _, m := range first {
		s.put(m)
	}
	return s.revision, nil
}

// Update implements membership.Store. fn runs without the lock held, so it may read
// the store; the commit checks that the workspace did not change meanwhile.
func (s *Store) Update(ctx context.Context, workspace string, fn func(tx *membership.Tx) error) (uint64, error) {
	for {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("update %s: %w", workspace, err)
		}
		tx, version, err := s.begin(workspace)
		if err != nil {
			return 0, err
		}
		if err := fn(tx); err != nil {
			return 0, err
		}
		puts, deletes, err := tx.Result()
		if err != nil {
			return 0, err
		}
		if rev, ok := s.commit(workspace, version, puts, deletes); ok {
			return rev, nil
		}
	}
}

// begin returns a Tx over the workspace's members and the revision of its last change.
func (s *Store) begin(workspace string) (*membership.Tx, uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	w, ok := s.workspaces[workspace]
	if !ok {
		return nil, 0, fmt.Errorf("update %s: %w", workspace, membership.ErrNotFound)
	}
	members := maps.Clone(s.members[workspace])
	if members == nil {
		members = make(map[string]membership.Membership)
	}
	return membership.NewTx(w, members), s.changed[workspace], nil
}

// commit applies the changes when the workspace is still at version, and reports
// whether it did. Without changes it commits nothing and returns the revision.
func (s *Store) commit(workspace string, version uint64,
	puts []membership.Membership, deletes []string,
) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.workspaces[workspace]; !ok || s.changed[workspace] != version {
		return 0, false
	}
	if len(puts) == 0 && len(deletes) == 0 {
		return s.revision, true
	}
	s.revision++
	s.changed[workspace] = s.revision
	for _, m := range puts {
		s.put(m)
	}
	for _, user := range deletes {
		s.remove(workspace, user)
	}
	return s.revision, true
}

// Import implements membership.Store.
func (s *Store) Import(_ context.Context, d *membership.Data, replace bool) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revision++
	if replace {
		s.reset()
	}
	s.load(d)
	return s.revision, nil
}
