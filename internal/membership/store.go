package membership

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Errors a Store returns that callers branch on.
var (
	// ErrExists: the workspace to create already exists.
	ErrExists = errors.New("already exists")
	// ErrNotTenant: the tenant named for a new developer workspace is itself a
	// developer workspace.
	ErrNotTenant = errors.New("not a tenant workspace")
	// ErrUnavailable: the store could not be reached or did not answer in time.
	ErrUnavailable = errors.New("membership store unavailable")
	// ErrStale: the store's view did not reach the revision asked for in time.
	ErrStale = errors.New("membership data older than the revision asked for")
)

// LookupStats counts a store's fact lookups since it opened: Hits answered from process
// memory, Misses read from the store's backing service, Errors failed.
type LookupStats struct {
	Hits, Misses, Errors uint64
}

// Store is where memberships live: the embedded store or Redis. Every write is atomic
// and advances the one membership revision, which the write returns.
type Store interface {
	Reader

	// Members returns every membership of the workspace, in any status.
	Members(ctx context.Context, workspace string) ([]Membership, error)

	// CreateWorkspace creates w with its first members (for a developer workspace,
	// its tenant must exist). It returns ErrExists when w.ID is taken.
	CreateWorkspace(ctx context.Context, w Workspace, first []Membership) (uint64, error)

	// Update runs fn on the workspace's current members and commits the changes fn
	// makes, atomically: if another write to the workspace commits in between, fn runs
	// again on the new state. An error from fn commits nothing and is returned as is.
	// It returns ErrNotFound when the workspace does not exist.
	Update(ctx context.Context, workspace string, fn func(tx *Tx) error) (uint64, error)

	// Import loads d (validated by the caller) in one atomic write. Without replace it
	// adds and overwrites; with replace the store holds exactly d afterwards.
	Import(ctx context.Context, d *Data, replace bool) (uint64, error)

	// Export returns every workspace and membership.
	Export(ctx context.Context) (*Data, error)

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error

	// Close releases the store's connections.
	Close() error
}

// Tx is one workspace's members as an Update sees them, and the changes it makes.
type Tx struct {
	Workspace Workspace
	// Members are the workspace's memberships by user id, before this Update's changes.
	Members map[string]Membership

	puts    []Membership
	deletes []string
}

// NewTx returns a Tx over a workspace's members, for Store implementations.
func NewTx(w Workspace, members map[string]Membership) *Tx {
	return &Tx{Workspace: w, Members: members}
}

// Put creates or replaces m, which must be a membership of the Tx's workspace.
func (tx *Tx) Put(m Membership) { tx.puts = append(tx.puts, m) }

// Delete removes the user's membership.
func (tx *Tx) Delete(user string) { tx.deletes = append(tx.deletes, user) }

// Changes returns what the Update put and deleted, in order, for Store implementations.
func (tx *Tx) Changes() (puts []Membership, deletes []string) { return tx.puts, tx.deletes }

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 72 * time.Hour

// CheckCreate checks a workspace that CreateWorkspace is asked to create, with its first
// members, for what a Store can check without the policy: an id, a known type, a tenant
// exactly for developer workspaces, and first members that are of w, one per user.
func CheckCreate(w Workspace, first []Membership) error {
	var problems []error
	switch {
	case w.ID == "":
		problems = append(problems, errors.New("id is required"))
	case !ValidWorkspaceID(w.ID):
		problems = append(problems, errInvalidID(w.ID))
	}
	switch {
	case w.Type == TypeTenant && w.Tenant != "":
		problems = append(problems, fmt.Errorf("a tenant workspace has no tenant, got %q", w.Tenant))
	case w.Type == TypeDeveloper && w.Tenant == "":
		problems = append(problems, errors.New("a developer workspace needs its tenant"))
	case w.Type != TypeTenant && w.Type != TypeDeveloper:
		problems = append(problems, fmt.Errorf("type %q is not %q or %q", w.Type, TypeTenant, TypeDeveloper))
	}
	seen := make(map[string]bool, len(first))
	for _, m := range first {
		switch {
		case m.User == "":
			problems = append(problems, errors.New("a first member has no user"))
		case m.Workspace != w.ID:
			problems = append(problems, fmt.Errorf("first member %s is of workspace %q", m.User, m.Workspace))
		case seen[m.User]:
			problems = append(problems, fmt.Errorf("first member %s is listed twice", m.User))
		}
		seen[m.User] = true
	}
	if len(problems) > 0 {
		return fmt.Errorf("create workspace %q: %w", w.ID, errors.Join(problems...))
	}
	return nil
}

// Result applies the Update's puts and deletes, in order, to its members and returns
// the net changes for Store implementations: the memberships that are new or differ,
// sorted by user, and the users whose membership goes. A put of a membership without
// a user or of another workspace is an error.
func (tx *Tx) Result() (puts []Membership, deletes []string, err error) {
	final := maps.Clone(tx.Members)
	if final == nil {
		final = make(map[string]Membership)
	}
	for _, m := range tx.puts {
		if m.User == "" {
			return nil, nil, fmt.Errorf("put membership in %s: user is required", tx.Workspace.ID)
		}
		if m.Workspace != tx.Workspace.ID {
			return nil, nil, fmt.Errorf("put membership of %s in %s: the update is of %s",
				m.User, m.Workspace, tx.Workspace.ID)
		}
		final[m.User] = m
	}
	for _, user := range tx.deletes {
		delete(final, user)
	}
	for _, user := range slices.Sorted(maps.Keys(final)) {
		if old, ok := tx.Members[user]; !ok || !sameMembership(old, final[user]) {
			puts = append(puts, final[user])
		}
	}
	for _, user := range slices.Sorted(maps.Keys(tx.Members)) {
		if _, ok := final[user]; !ok {
			deletes = append(deletes, user)
		}
	}
	return puts, deletes, nil
}

func sameMembership(a, b Membership) bool {
	return a.User == b.User && a.Workspace == b.Workspace && a.Role == b.Role &&
		a.Status == b.Status && slices.Equal(a.MiniPrograms, b.MiniPrograms) &&
		a.ExpiresAt.Equal(b.ExpiresAt)
}

func errInvalidID(id string) error {
	return fmt.Errorf("id %q is not a workspace id: 1 to %d letters, digits, '.', '_' or '-', "+
		"starting with a letter or digit", id, MaxIDBytes)
}
