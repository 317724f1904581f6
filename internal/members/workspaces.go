package members

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/rolegate/rolegate/internal/membership"
)

// FirstAdmin is one of the members a new workspace starts with. Role may be empty when
// the workspace type has one admin role.
type FirstAdmin struct {
	User string
	Role string
}

// CreateWorkspace creates a workspace with its first admins, all active. Only the
// platform's back end may do this; the caller checks that before calling.
func (m *Manager) CreateWorkspace(ctx context.Context, w membership.Workspace, admins []FirstAdmin) (uint64, error) {
	first, err := m.firstMembers(w, admins)
	if err != nil {
		return 0, err
	}
	rev, err := m.store.CreateWorkspace(ctx, w, first)
	switch {
	case errors.Is(err, membership.ErrExists):
		return 0, conflict("workspace_exists", "workspace %s already exists", w.ID)
	case errors.Is(err, membership.ErrNotFound):
		return 0, notFound("tenant_not_found", "tenant workspace %s does not exist", w.Tenant)
	case errors.Is(err, membership.ErrNotTenant):
		return 0, &Error{
			Kind: KindInvalid, Code: "tenant_not_tenant",
			Message: fmt.Sprintf("%s is a developer workspace; a developer workspace's tenant is a tenant workspace", w.Tenant),
		}
	}
	return rev, storeError(err, w.ID)
}

func (m *Manager) firstMembers(w membership.Workspace, admins []FirstAdmin) ([]membership.Membership, error) {
	switch {
	case w.ID == "":
		return nil, invalid("id is required")
	case !membership.ValidWorkspaceID(w.ID):
		return nil, invalid("id %q may hold only letters, digits, '.', '_' and '-' (up to %d), "+
			"starting with a letter or digit", w.ID, membership.MaxIDBytes)
	case w.Type != membership.TypeTenant && w.Type != membership.TypeDeveloper:
		return nil, invalid("type must be tenant or developer, not %q", w.Type)
	case w.Type == membership.TypeDeveloper && w.Tenant == "":
		return nil, invalid("a developer workspace names its tenant")
	case w.Type == membership.TypeTenant && w.Tenant != "":
		return nil, invalid("a tenant workspace has no tenant")
	case len(admins) == 0:
		return nil, invalid("a workspace starts with at least one admin")
	}
	adminRoles := m.AdminRoles()[w.Type]
	slices.Sort(adminRoles)
	out := make([]membership.Membership, 0, len(admins))
	for _, a := range admins {
		role := a.Role
		if role == "" && len(adminRoles) == 1 {
			role = adminRoles[0]
		}
		if a.User == "" || !slices.Contains(adminRoles, role) {
			return nil, invalid("each first admin needs a user and one of the admin roles %v", adminRoles)
		}
		if slices.ContainsFunc(out, func(m membership.Membership) bool { return m.User == a.User }) {
			return nil, invalid("first admin %s is listed twice", a.User)
		}
		out = append(out, membership.Membership{User: a.User, Workspace: w.ID, Role: role, Status: membership.StatusActive})
	}
	return out, nil
}
