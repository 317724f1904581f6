package members

import (
	"fmt"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
)

// adminOperation is what makes a role an admin role: it manages members.
const adminOperation = opAssign

// checkRole refuses a role the policy does not know or that belongs to the other
// workspace type. The policy refuses the second too; the check here keeps the store
// clean whatever the policy says.
func (m *Manager) checkRole(w membership.Workspace, role string) error {
	r, ok := m.model().Roles[role]
	switch {
	case role == "":
		return invalid("role is required")
	case !ok:
		return invalid("role %q is not known", role)
	case r.WorkspaceType != w.Type:
		return invalid("role %s belongs in %s workspaces, and %s is a %s workspace", role, r.WorkspaceType, w.ID, w.Type)
	}
	return nil
}

// keepAnAdmin refuses a change that leaves the workspace without an active admin.
func (m *Manager) keepAnAdmin(tx *membership.Tx) error {
	after := make(map[string]membership.Membership, len(tx.Members))
	for u, cur := range tx.Members {
		after[u] = cur
	}
	puts, deletes := tx.Changes()
	for _, p := range puts {
		after[p.User] = p
	}
	for _, u := range deletes {
		delete(after, u)
	}
	for _, cur := range after {
		if cur.Status == membership.StatusActive && m.isAdmin(cur.Role) {
			return nil
		}
	}
	return &Error{
		Kind: KindForbidden, Code: "last_admin",
		Message: fmt.Sprintf("%s would have no active admin left", tx.Workspace.ID),
	}
}

// isAdmin reports whether the role manages members.
func (m *Manager) isAdmin(role string) bool {
	r, ok := m.model().Roles[role]
	return ok && r.Grants[adminOperation] != ""
}

// AdminRoles returns the admin role of each workspace type.
func (m *Manager) AdminRoles() map[string][]string {
	out := map[string][]string{}
	for _, r := range m.model().Roles {
		if m.isAdmin(r.ID) {
			out[r.WorkspaceType] = append(out[r.WorkspaceType], r.ID)
		}
	}
	return out
}

func (m *Manager) model() *engine.Model {
	if p := m.authz.Engine().Policy(); p != nil {
		return p.Model()
	}
	return &engine.Model{}
}
