// Package membership holds the facts rolegate decides on: workspaces, who is a member
// of which, with which role and status, and the file format that carries them.
package membership

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Workspace types.
const (
	TypeTenant    = "tenant"
	TypeDeveloper = "developer"
)

// Status says whether a membership grants anything; only StatusActive does.
type Status string

// Membership statuses.
const (
	StatusInvited Status = "invited"
	StatusActive  Status = "active"
	StatusBlocked Status = "blocked"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	return s == StatusInvited || s == StatusActive || s == StatusBlocked
}

// Workspace is a tenant workspace or a developer workspace of a tenant.
type Workspace struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Tenant is the tenant workspace a developer workspace belongs to; empty for tenants.
	Tenant string `json:"tenant,omitempty"`
}

// MaxIDBytes bounds a workspace id.
const MaxIDBytes = 128

// ValidWorkspaceID reports whether id can name a workspace: 1 to MaxIDBytes letters,
// digits, '.', '_' or '-', starting with a letter or digit. Such an id is one segment
// of a URL path and of a Redis key, unescaped and unambiguous.
func ValidWorkspaceID(id string) bool {
	if id == "" || len(id) > MaxIDBytes {
		return false
	}
	for i := range len(id) {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// Membership is one user's role and status in one workspace.
type Membership struct {
	User      string `json:"user"`
	Workspace string `json:"workspace"`
	Role      string `json:"role"`
	Status    Status `json:"status"`
	// MiniPrograms are the mini programs assigned to the member, for roles whose
	// grants are limited to assigned mini programs.
	MiniPrograms []string `json:"miniprograms,omitempty"`
	// ExpiresAt is when an invitation stops being acceptable; zero for memberships that
	// are not invited, and for invitations that must be resent before acceptance.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Assigned reports whether the mini program id is assigned to the member.
func (m Membership) Assigned(id string) bool {
	return slices.Contains(m.MiniPrograms, id)
}

// Roles maps each role id the policy knows to the workspace type it belongs to.
type Roles map[string]string

// ErrNotFound is returned by a Reader when a workspace or membership does not exist.
var ErrNotFound = errors.New("not found")

// Reader looks up the facts a decision needs.
type Reader interface {
	// Workspace returns the workspace with the id, or ErrNotFound.
	Workspace(ctx context.Context, id string) (Workspace, error)
	// UserMemberships returns every membership of the user, in any status; none is
	// not an error. The caller must not modify the result.
	UserMemberships(ctx context.Context, user string) ([]Membership, error)
	// Revision returns the membership revision the reader's answers reflect.
	Revision(ctx context.Context) (uint64, error)
	// Sync waits until the store's answers reflect at least revision rev, up to ctx's
	// deadline, and returns ErrStale when they do not by then.
	Sync(ctx context.Context, rev uint64) error
}

// FactsReader is a Reader that looks up the two facts of a decision together, so
// that a decision on a slow store waits for one lookup, not two in a row.
type FactsReader interface {
	Reader
	// Facts returns the workspace, nil when it does not exist, and the user's
	// memberships, as Workspace and UserMemberships would.
	Facts(ctx context.Context, workspace, user string) (*Workspace, []Membership, error)
}

// ReadFacts returns the two facts of a decision from r: the workspace, nil when it
// does not exist, and the user's memberships. It reads them together when r is a
// FactsReader, one after the other otherwise.
func ReadFacts(ctx context.Context, r Reader, workspace, user string) (*Workspace, []Membership, error) {
	if fr, ok := r.(FactsReader); ok {
		return fr.Facts(ctx, workspace, user)
	}
	var ws *Workspace
	switch w, err := r.Workspace(ctx, workspace); {
	case err == nil:
		ws = &w
	case !errors.Is(err, ErrNotFound):
		return nil, nil, fmt.Errorf("workspace %s: %w", workspace, err)
	}
	ms, err := r.UserMemberships(ctx, user)
	if err != nil {
		return nil, nil, fmt.Errorf("memberships of %s: %w", user, err)
	}
	return ws, ms, nil
}
