package engine

import "github.com/rolegate/rolegate/internal/membership"

// DataRoot is the data path a policy asked without input.facts reads memberships
// from, and so the root of a bundle that carries them.
const DataRoot = "memberships"

// MembershipsData returns d in the layout the policy reads under data.memberships
// when input.facts is absent: workspaces[id] as {type, tenant} and
// users[subject][workspace] as {role, status, miniprograms}, the same shapes
// Input gives the policy as facts. It lets a plain OPA server answer as rolegate does.
func MembershipsData(d *membership.Data) map[string]any {
	workspaces := make(map[string]any, len(d.Workspaces))
	for _, w := range d.Workspaces {
		ws := map[string]any{"type": w.Type}
		if w.Tenant != "" {
			ws["tenant"] = w.Tenant
		}
		workspaces[w.ID] = ws
	}
	users := make(map[string]any)
	for _, m := range d.Memberships {
		byWorkspace, ok := users[m.User].(map[string]any)
		if !ok {
			byWorkspace = make(map[string]any)
			users[m.User] = byWorkspace
		}
		mps := make([]any, len(m.MiniPrograms))
		for i, id := range m.MiniPrograms {
			mps[i] = id
		}
		byWorkspace[m.Workspace] = map[string]any{
			"role":         m.Role,
			"status":       string(m.Status),
			"miniprograms": mps,
		}
	}
	return map[string]any{"workspaces": workspaces, "users": users}
}
