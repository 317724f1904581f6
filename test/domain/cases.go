package domain

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/membership"
)

// The world the cases happen in: a tenant with two merchants, and another tenant with
// one. Tenant roles are members of TenantHome, developer roles of DeveloperHome.
const (
	TenantHome      = "tw-home"
	DeveloperHome   = "dw-home"
	Merchant        = "dw-merchant"
	OtherTenant     = "tw-other"
	ForeignMerchant = "dw-foreign"

	AssignedMP   = "mp-a"
	UnassignedMP = "mp-b"
	Peer         = "u-peer"
)

// Case is one decision with the answer the specification expects.
type Case struct {
	Name    string
	Request authz.Request
	Allow   bool
}

// Member returns the user id of the member holding role with the status.
func Member(role string, status membership.Status) string {
	if status == membership.StatusActive {
		return "u-" + role
	}
	return "u-" + role + "-" + string(status)
}

// Home returns the workspace the role's members belong to.
func Home(role string) string {
	if TenantRoles[role] {
		return TenantHome
	}
	return DeveloperHome
}

// World returns the membership data of the cases: for each role, an active, a
// blocked and an invited member in the role's home workspace, each assigned AssignedMP.
func World() *membership.Data {
	d := &membership.Data{Workspaces: []membership.Workspace{
		{ID: TenantHome, Type: membership.TypeTenant},
		{ID: DeveloperHome, Type: membership.TypeDeveloper, Tenant: TenantHome},
		{ID: Merchant, Type: membership.TypeDeveloper, Tenant: TenantHome},
		{ID: OtherTenant, Type: membership.TypeTenant},
		{ID: ForeignMerchant, Type: membership.TypeDeveloper, Tenant: OtherTenant},
	}}
	for _, role := range Roles {
		for _, s := range []membership.Status{membership.StatusActive, membership.StatusBlocked, membership.StatusInvited} {
			d.Memberships = append(d.Memberships, membership.Membership{
				User: Member(role, s), Workspace: Home(role), Role: role, Status: s,
				MiniPrograms: []string{AssignedMP},
			})
		}
	}
	return d
}

// situation is a variation of a request and the rule that says whether the
// specification allows it, given the cell's scope.
type situation struct {
	name      string
	status    membership.Status
	workspace func(role string) string
	id        string
	submitter string // "self" means the subject
	allow     func(scope, op string, tenantRole bool) bool
}

var situations = []situation{
	{
		"own workspace, assigned mini program", membership.StatusActive, Home, AssignedMP, Peer,
		func(s, op string, _ bool) bool { return inOwn(op) && oneOf(s, Any, Merchants, Assigned) },
	},
	{
		"own workspace, unassigned mini program", membership.StatusActive, Home, UnassignedMP, Peer,
		func(s, op string, _ bool) bool { return inOwn(op) && oneOf(s, Any, Merchants) },
	},
	{
		"own workspace, no resource id", membership.StatusActive, Home, "", Peer,
		func(s, op string, _ bool) bool {
			return inOwn(op) && (oneOf(s, Any, Merchants) || s == Assigned && op == "miniprogram:list")
		},
	},
	{
		"own workspace, own request", membership.StatusActive, Home, AssignedMP, "self",
		func(s, op string, _ bool) bool { return inOwn(op) && s != Denied && !approves(op) },
	},
	{
		"developer workspace of own tenant", membership.StatusActive, always(Merchant), UnassignedMP, Peer,
		func(s, _ string, tenantRole bool) bool { return tenantRole && s == Merchants },
	},
	{
		"developer workspace of another tenant", membership.StatusActive, always(ForeignMerchant), UnassignedMP, Peer,
		never,
	},
	{
		"tenant workspace of another tenant", membership.StatusActive, always(OtherTenant), UnassignedMP, Peer,
		never,
	},
	{"blocked member", membership.StatusBlocked, Home, AssignedMP, Peer, never},
	{"invited member", membership.StatusInvited, Home, AssignedMP, Peer, never},
}

// developerSituations apply to developer roles only: no reach beyond their workspace.
var developerSituations = []situation{
	{"tenant workspace of own tenant", membership.StatusActive, always(TenantHome), UnassignedMP, Peer, never},
}

// Cases returns a case for every cell of the matrix in every situation.
func Cases() ([]Case, error) {
	m, err := Matrix()
	if err != nil {
		return nil, err
	}
	ops := make([]string, 0, len(m))
	for op := range m {
		ops = append(ops, op)
	}
	slices.Sort(ops)

	var cases []Case
	for _, op := range ops {
		for _, role := range Roles {
			list := situations
			if !TenantRoles[role] {
				list = append(slices.Clip(list), developerSituations...)
			}
			for _, s := range list {
				cases = append(cases, s.caseFor(op, role, m[op][role]))
			}
		}
	}
	return cases, nil
}

func (s situation) caseFor(op, role, scope string) Case {
	subject := Member(role, s.status)
	submitter := s.submitter
	if submitter == "self" {
		submitter = subject
	}
	return Case{
		Name: fmt.Sprintf("%s/%s/%s", op, role, strings.ReplaceAll(s.name, " ", "_")),
		Request: authz.Request{
			Subject: subject,
			Action:  op,
			Resource: authz.Resource{
				Workspace: s.workspace(role),
				ID:        s.id,
				Attributes: map[string]any{
					"submitter":              submitter,
					"state":                  "in_review",
					"published_miniprograms": 0,
					"member":                 Peer,
				},
			},
		},
		Allow: s.allow(scope, op, TenantRoles[role]),
	}
}

// inOwn reports whether the operation can apply in the member's own workspace:
// developer_workspace operations never apply to a tenant's own workspace.
func inOwn(op string) bool { return !strings.HasPrefix(op, "developer_workspace:") }

// approves reports whether the operation decides on someone's request, which nobody
// may do for their own.
func approves(op string) bool { return op == "approval:approve" || op == "approval:reject" }

func oneOf(s string, scopes ...string) bool { return slices.Contains(scopes, s) }

func always(ws string) func(string) string { return func(string) string { return ws } }

func never(string, string, bool) bool { return false }
