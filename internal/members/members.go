// Package members carries out the member lifecycle of a workspace: invite, accept,
// resend, withdraw, assign a role, block, unblock, remove, list, and the creation of
// workspaces with their first admins. Every change is authorized by the policy inside
// the store's atomic update, on the actor's membership as it is at that moment, and
// keeps the invariants: a role only in its own workspace type, nobody changes their
// own membership, a workspace never loses its last active admin.
package members

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
)

// Operations of the policy the lifecycle asks about.
const (
	opList     = "member:list"
	opInvite   = "member:invite"
	opResend   = "member:resend_invite"
	opWithdraw = "member:withdraw_invite"
	opAssign   = "member:assign_role"
	opBlock    = "member:block"
	opUnblock  = "member:unblock"
	opRemove   = "member:remove"
)

// Manager runs the lifecycle on a store with a decision service.
type Manager struct {
	store membership.Store
	authz *authz.Service
	now   func() time.Time
}

// New returns a manager. now may be nil for the current time.
func New(store membership.Store, svc *authz.Service, now func() time.Time) *Manager {
	if now == nil {
		now = time.Now
	}
	return &Manager{store: store, authz: svc, now: now}
}

// Result is a membership after a write and the revision the write created, which is
// the write's consistency token.
type Result struct {
	Membership membership.Membership
	Revision   uint64
}

// Invitation asks for a user to join a workspace with a role.
type Invitation struct {
	User         string
	Role         string
	MiniPrograms []string
}

// Invite creates an invited membership that expires after membership.InvitationTTL.
// A user whose earlier invitation expired can be invited again.
func (m *Manager) Invite(ctx context.Context, actor, workspace string, inv Invitation) (Result, error) {
	if inv.User == "" {
		return Result{}, invalid("user is required")
	}
	var out membership.Membership
	rev, err := m.update(ctx, actor, workspace, opInvite, attrs(inv.User, inv.Role), func(tx *membership.Tx) error {
		if err := m.checkRole(tx.Workspace, inv.Role); err != nil {
			return err
		}
		if cur, ok := tx.Members[inv.User]; ok && !m.expired(cur) {
			return conflict("already_member", "%s already has a %s membership in %s", inv.User, cur.Status, workspace)
		}
		out = membership.Membership{
			User: inv.User, Workspace: workspace, Role: inv.Role, Status: membership.StatusInvited,
			MiniPrograms: inv.MiniPrograms, ExpiresAt: m.now().Add(membership.InvitationTTL).UTC(),
		}
		tx.Put(out)
		return nil
	})
	return Result{Membership: out, Revision: rev}, err
}

// Accept makes the actor's own invitation an active membership, unless it expired.
func (m *Manager) Accept(ctx context.Context, actor, workspace string) (Result, error) {
	var out membership.Membership
	rev, err := m.store.Update(ctx, workspace, func(tx *membership.Tx) error {
		cur, ok := tx.Members[actor]
		switch {
		case !ok || cur.Status != membership.StatusInvited:
			return notFound("invitation_not_found", "%s has no open invitation to %s", actor, workspace)
		case m.expired(cur):
			return conflict("invitation_expired", "the invitation of %s to %s expired at %s; ask for it to be resent",
				actor, workspace, cur.ExpiresAt.Format(time.RFC3339))
		}
		out = cur
		out.Status, out.ExpiresAt = membership.StatusActive, time.Time{}
		tx.Put(out)
		return nil
	})
	return Result{Membership: out, Revision: rev}, storeError(err, workspace)
}

// Resend gives an invitation, expired or not, a new expiry.
func (m *Manager) Resend(ctx context.Context, actor, workspace, user string) (Result, error) {
	return m.change(ctx, actor, workspace, user, opResend, "", func(cur *membership.Membership) error {
		if cur.Status != membership.StatusInvited {
			return conflict("not_invited", "%s is %s in %s, not invited", user, cur.Status, workspace)
		}
		cur.ExpiresAt = m.now().Add(membership.InvitationTTL).UTC()
		return nil
	})
}

// Withdraw deletes an invitation that was not accepted.
func (m *Manager) Withdraw(ctx context.Context, actor, workspace, user string) (uint64, error) {
	return m.update(ctx, actor, workspace, opWithdraw, attrs(user, ""), func(tx *membership.Tx) error {
		cur, ok := tx.Members[user]
		switch {
		case !ok:
			return notFound("member_not_found", "%s has no membership in %s", user, workspace)
		case cur.Status != membership.StatusInvited:
			return conflict("not_invited", "%s is %s in %s; only an invitation can be withdrawn",
				user, cur.Status, workspace)
		}
		tx.Delete(user)
		return nil
	})
}

// AssignRole gives a member another role and, when miniPrograms is not nil, another
// set of assigned mini programs.
func (m *Manager) AssignRole(ctx context.Context, actor, workspace, user, role string,
	miniPrograms []string,
) (Result, error) {
	if role == "" {
		return Result{}, invalid("role is required")
	}
	return m.change(ctx, actor, workspace, user, opAssign, role, func(cur *membership.Membership) error {
		cur.Role = role
		if miniPrograms != nil {
			cur.MiniPrograms = miniPrograms
		}
		return nil
	})
}

// Block stops an active member from doing anything in the workspace.
func (m *Manager) Block(ctx context.Context, actor, workspace, user string) (Result, error) {
	return m.change(ctx, actor, workspace, user, opBlock, "", func(cur *membership.Membership) error {
		if cur.Status != membership.StatusActive {
			return conflict("not_active", "%s is %s in %s; only an active member can be blocked", user, cur.Status, workspace)
		}
		cur.Status = membership.StatusBlocked
		return nil
	})
}

// Unblock makes a blocked member active again.
func (m *Manager) Unblock(ctx context.Context, actor, workspace, user string) (Result, error) {
	return m.change(ctx, actor, workspace, user, opUnblock, "", func(cur *membership.Membership) error {
		if cur.Status != membership.StatusBlocked {
			return conflict("not_blocked", "%s is %s in %s, not blocked", user, cur.Status, workspace)
		}
		cur.Status = membership.StatusActive
		return nil
	})
}

// Remove deletes a membership.
func (m *Manager) Remove(ctx context.Context, actor, workspace, user string) (uint64, error) {
	return m.update(ctx, actor, workspace, opRemove, attrs(user, ""), func(tx *membership.Tx) error {
		if _, ok := tx.Members[user]; !ok {
			return notFound("member_not_found", "%s has no membership in %s", user, workspace)
		}
		tx.Delete(user)
		return m.keepAnAdmin(tx)
	})
}

// List returns the workspace's memberships, if the actor may list them.
func (m *Manager) List(ctx context.Context, actor, workspace string) ([]membership.Membership, uint64, error) {
	req := &authz.Request{Subject: actor, Action: opList, Resource: authz.Resource{Workspace: workspace}}
	if d := m.authz.Decide(ctx, req); !d.Allow {
		return nil, 0, refusal(&d)
	}
	return m.ListUnchecked(ctx, workspace)
}

// ListUnchecked returns the workspace's memberships without asking the policy, for
// callers that are already authorized (the platform's back end). The revision is read
// first, so that the list is at least as fresh as the revision returned with it.
func (m *Manager) ListUnchecked(ctx context.Context, workspace string) ([]membership.Membership, uint64, error) {
	rev, err := m.store.Revision(ctx)
	if err != nil {
		return nil, 0, storeError(err, workspace)
	}
	list, err := m.store.Members(ctx, workspace)
	if err != nil {
		return nil, 0, storeError(err, workspace)
	}
	return list, rev, nil
}

// change applies edit to an existing membership after the policy allowed op on it.
func (m *Manager) change(ctx context.Context, actor, workspace, user, op, role string,
	edit func(cur *membership.Membership) error,
) (Result, error) {
	var out membership.Membership
	rev, err := m.update(ctx, actor, workspace, op, attrs(user, role), func(tx *membership.Tx) error {
		cur, ok := tx.Members[user]
		if !ok {
			return notFound("member_not_found", "%s has no membership in %s", user, workspace)
		}
		if role != "" {
			if err := m.checkRole(tx.Workspace, role); err != nil {
				return err
			}
		}
		if err := edit(&cur); err != nil {
			return err
		}
		tx.Put(cur)
		out = cur
		return m.keepAnAdmin(tx)
	})
	return Result{Membership: out, Revision: rev}, err
}

// update runs fn in the store's atomic update of the workspace once the policy allows
// the actor op there. The policy sees the actor's membership in the workspace as the
// update reads it, and the actor's other memberships as the store has them.
func (m *Manager) update(ctx context.Context, actor, workspace, op string, a map[string]any,
	fn func(tx *membership.Tx) error,
) (uint64, error) {
	req := &authz.Request{Subject: actor, Action: op, Resource: authz.Resource{Workspace: workspace, Attributes: a}}
	elsewhere, err := m.store.UserMemberships(ctx, actor)
	if err != nil {
		return 0, storeError(err, workspace)
	}
	rev, err := m.store.Update(ctx, workspace, func(tx *membership.Tx) error {
		facts := engine.Facts{Workspace: &tx.Workspace}
		for _, own := range elsewhere {
			if own.Workspace != workspace {
				facts.Memberships = append(facts.Memberships, own)
			}
		}
		if own, ok := tx.Members[actor]; ok {
			facts.Memberships = append(facts.Memberships, own)
		}
		if d := m.authz.DecideOn(ctx, req, facts, 0); !d.Allow {
			return refusal(&d)
		}
		return fn(tx)
	})
	return rev, storeError(err, workspace)
}

func attrs(member, role string) map[string]any {
	a := map[string]any{"member": member}
	if role != "" {
		a["role"] = role
	}
	return a
}

func (m *Manager) expired(cur membership.Membership) bool {
	return cur.Status == membership.StatusInvited && !m.now().Before(cur.ExpiresAt)
}

// storeError maps the store's errors onto the lifecycle's.
func storeError(err error, workspace string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, membership.ErrNotFound):
		return notFound("workspace_not_found", "workspace %s does not exist", workspace)
	case errors.Is(err, membership.ErrUnavailable):
		return &Error{
			Kind: KindUnavailable, Code: "membership_unavailable",
			Message: "the membership store is unavailable", err: err,
		}
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("membership write: %w", err)
}
