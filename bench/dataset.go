package main

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
)

// shape is the size of the generated data set.
type shape struct {
	Users, Workspaces, Memberships int
	Seed                           uint64
}

// Shares of the generated memberships by status; the rest are active.
const (
	invitedShare = 0.10
	blockedShare = 0.05
	// miniProgramsPerWorkspace is how many mini programs each workspace has.
	miniProgramsPerWorkspace = 8
	// adminOperation makes a role an admin role: it assigns roles.
	adminOperation = "member:assign_role"
)

// dataset is the generated membership data with what the request mix and the write
// visibility measurement need to know of it.
type dataset struct {
	Data *membership.Data
	// MiniPrograms are each workspace's mini program ids.
	MiniPrograms map[string][]string
	// ByUser are the indexes of each user's memberships in Data.Memberships.
	ByUser map[string][]int
	// Users are the user ids, in order.
	Users []string
	// Merchants are the developer workspaces of each tenant.
	Merchants map[string][]string
	// Fixture is a developer workspace with an active admin and an active member
	// holding Fixture.Role, for the write visibility measurement.
	Fixture fixture
}

// fixture names the members a role change is made on.
type fixture struct {
	Workspace, Admin, Member, Role string
}

// validate reports a shape that cannot be generated.
func (s shape) validate() error {
	switch {
	case s.Workspaces < 2:
		return fmt.Errorf("need at least 2 workspaces (a tenant and a developer workspace), got %d",
			s.Workspaces)
	case s.Memberships < 2*s.Workspaces:
		return fmt.Errorf("need at least 2 memberships per workspace (an admin and a member), got %d for %d",
			s.Memberships, s.Workspaces)
	case s.Users < (s.Memberships+s.Workspaces-1)/s.Workspaces:
		return fmt.Errorf("%d users cannot hold %d memberships in %d workspaces (one per workspace each)",
			s.Users, s.Memberships, s.Workspaces)
	}
	return nil
}

// generate builds the data set deterministically from the shape's seed: a tenant for
// every ten workspaces, the rest developer workspaces of those tenants, and in each
// workspace an active admin, an active member of the visibility role and members of
// every role of its type, most active, some invited or blocked, with mini programs
// assigned where a role's grants are scoped to them.
func generate(s shape, model *engine.Model) (*dataset, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x726f6c6567617465))
	ds := &dataset{
		Data:         &membership.Data{Workspaces: workspaces(s.Workspaces)},
		MiniPrograms: make(map[string][]string, s.Workspaces),
		ByUser:       make(map[string][]int, s.Users),
		Users:        make([]string, s.Users),
		Merchants:    make(map[string][]string),
	}
	for i := range ds.Users {
		ds.Users[i] = fmt.Sprintf("u-%07d", i+1)
	}
	roles, err := rolesByType(model)
	if err != nil {
		return nil, err
	}
	ds.Data.Memberships = make([]membership.Membership, 0, s.Memberships)
	for i, w := range ds.Data.Workspaces {
		ds.MiniPrograms[w.ID] = miniPrograms(w.ID)
		if w.Tenant != "" {
			ds.Merchants[w.Tenant] = append(ds.Merchants[w.Tenant], w.ID)
		}
		n := s.Memberships / s.Workspaces
		if i < s.Memberships%s.Workspaces {
			n++
		}
		ds.addMembers(rng, w, roles[w.Type], n)
	}
	ds.setFixture(roles)
	return ds, nil
}

// setFixture names the last workspace (a developer one), its admin and its member
// of the second role, the first two members addMembers added.
func (ds *dataset) setFixture(roles map[string]typeRoles) {
	f := ds.Data.Workspaces[len(ds.Data.Workspaces)-1]
	ws := ds.workspaceMembers(f.ID)
	ds.Fixture = fixture{Workspace: f.ID, Role: roles[f.Type].member, Admin: ws[0].User, Member: ws[1].User}
}

// workspaces returns n workspace ids: a tenant for every ten (at least one), then
// developer workspaces spread over the tenants.
func workspaces(n int) []membership.Workspace {
	tenants := max(1, n/10)
	out := make([]membership.Workspace, 0, n)
	for i := range tenants {
		out = append(out, membership.Workspace{ID: fmt.Sprintf("tw-%05d", i+1), Type: membership.TypeTenant})
	}
	for i := range n - tenants {
		out = append(out, membership.Workspace{
			ID: fmt.Sprintf("dw-%06d", i+1), Type: membership.TypeDeveloper, Tenant: out[i%tenants].ID,
		})
	}
	return out
}

func miniPrograms(workspace string) []string {
	out := make([]string, miniProgramsPerWorkspace)
	for i := range out {
		out[i] = fmt.Sprintf("mp-%s-%d", workspace[3:], i+1)
	}
	return out
}

// typeRoles are one workspace type's roles: the admin role, the role of the
// visibility fixture's member (the second role by grants), and all of them.
type typeRoles struct {
	admin, member string
	all           []engine.Role
}

func rolesByType(model *engine.Model) (map[string]typeRoles, error) {
	out := make(map[string]typeRoles)
	for _, t := range []string{membership.TypeTenant, membership.TypeDeveloper} {
		all := model.RolesOf(t)
		i := slices.IndexFunc(all, func(r engine.Role) bool { return r.Grants[adminOperation] != "" })
		if i < 0 || len(all) < 2 {
			return nil, fmt.Errorf("the policy's %s workspaces need an admin role and another role", t)
		}
		tr := typeRoles{admin: all[i].ID, all: all}
		for _, r := range all {
			if r.ID != tr.admin {
				tr.member = r.ID
				break
			}
		}
		out[t] = tr
	}
	return out, nil
}

// addMembers adds n members to w, from consecutive users starting at a random one, so
// that no user is a member twice.
func (ds *dataset) addMembers(rng *rand.Rand, w membership.Workspace, roles typeRoles, n int) {
	first := rng.IntN(len(ds.Users))
	for k := range n {
		m := membership.Membership{
			User: ds.Users[(first+k)%len(ds.Users)], Workspace: w.ID, Status: membership.StatusActive,
		}
		switch k {
		case 0:
			m.Role = roles.admin
		case 1:
			m.Role = roles.member
		default:
			m.Role = roles.all[rng.IntN(len(roles.all))].ID
			m.Status = randomStatus(rng)
		}
		if scopedToAssigned(roles.all, m.Role) {
			m.MiniPrograms = pick(rng, ds.MiniPrograms[w.ID], 1+rng.IntN(3))
		}
		ds.ByUser[m.User] = append(ds.ByUser[m.User], len(ds.Data.Memberships))
		ds.Data.Memberships = append(ds.Data.Memberships, m)
	}
}

func randomStatus(rng *rand.Rand) membership.Status {
	switch x := rng.Float64(); {
	case x < invitedShare:
		return membership.StatusInvited
	case x < invitedShare+blockedShare:
		return membership.StatusBlocked
	}
	return membership.StatusActive
}

// scopedToAssigned reports whether the role grants anything only on assigned mini
// programs.
func scopedToAssigned(roles []engine.Role, id string) bool {
	for _, r := range roles {
		if r.ID == id {
			for _, scope := range r.Grants {
				if scope == engine.ScopeAssigned {
					return true
				}
			}
		}
	}
	return false
}

// pick returns k distinct items of list in list order.
func pick(rng *rand.Rand, list []string, k int) []string {
	idx := rng.Perm(len(list))[:min(k, len(list))]
	slices.Sort(idx)
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = list[j]
	}
	return out
}

// workspaceMembers returns the memberships of one workspace, in the order added.
func (ds *dataset) workspaceMembers(id string) []membership.Membership {
	var out []membership.Membership
	for _, m := range ds.Data.Memberships {
		if m.Workspace == id {
			out = append(out, m)
		}
	}
	return out
}
