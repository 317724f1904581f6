package membership

import (
	"context"
	"errors"
	"time"
)

// Errors a Store returns that callers branch on.
var (
	// ErrExists: the workspace to create already exists.
	ErrExists = errors.New("already exists")
	// ErrUnavailable: the store could not be reached or did not answer in time.
	ErrUnavailable = errors.New("membership store unavailable")
	// ErrStale: the store's view did not reach the revision asked for in time.
	ErrStale = errors.New("membership data older than the revision asked for")
)

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

	// Sync waits until the store's answers reflect at least revision rev, up to ctx's
	// deadline, and returns ErrStale when they do not by then.
	Sync(ctx context.Context, rev uint64) error

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
