# Refusals
# Why a membership does not grant the operation. These reasons explain a denial; they
# never decide one on their own (allow needs a grant, and a grant is explained by
# grants.rego).
package rolegate.authz

import data.rolegate.model

_refusals contains _no_membership if {
	not _home
	not _parent
}

_no_membership := _reason("no_membership", msg) if {
	_workspace.type == "developer"
	msg := sprintf(
		"%s has no membership in %s or in its tenant %s",
		[input.subject, input.resource.workspace, _workspace.tenant],
	)
} else := _reason("no_membership", msg) if {
	msg := sprintf("%s has no membership in %s", [input.subject, input.resource.workspace])
}

_refusals contains _reason("member_invited", msg) if {
	some ws, m in _relevant
	m.status == "invited"
	msg := sprintf("%s is invited to %s and has not accepted", [input.subject, ws])
}

_refusals contains _reason("member_blocked", msg) if {
	some ws, m in _relevant
	m.status == "blocked"
	msg := sprintf("%s is blocked in %s", [input.subject, ws])
}

_refusals contains _reason("operation_not_granted", msg) if {
	some ws, m in _relevant
	m.status == "active"
	not model.roles[m.role].grants[input.action]
	msg := sprintf("%s of %s does not grant %s", [m.role, ws, input.action])
}

_refusals contains _reason("role_workspace_mismatch", msg) if {
	some ws, m in _relevant
	m.status == "active"
	model.roles[m.role].workspace_type != _relevant_type[ws]
	msg := sprintf("role %s does not belong in %s workspace %s", [m.role, _relevant_type[ws], ws])
}

_refusals contains _reason("outside_scope", msg) if {
	_parent_scope != "merchants"
	msg := sprintf(
		"%s of %s grants %s only in %s, not in its merchant %s",
		[_parent.role, _workspace.tenant, input.action, _workspace.tenant, input.resource.workspace],
	)
}

_refusals contains _reason("resource_id_required", msg) if {
	_home_scope == "assigned"
	not input.resource.id
	not _operation.lists
	msg := sprintf(
		"%s of %s grants %s only on assigned mini programs, and resource.id is missing",
		[_home.role, input.resource.workspace, input.action],
	)
}

_refusals contains _reason("not_assigned", msg) if {
	_home_scope == "assigned"
	input.resource.id
	not input.resource.id in object.get(_home, "miniprograms", [])
	msg := sprintf(
		"%s is not assigned to %s as %s of %s",
		[input.resource.id, input.subject, _home.role, input.resource.workspace],
	)
}

_refusals contains _missing_attribute("submitter") if {
	_home_scope == "own"
	not "submitter" in object.keys(_attributes)
}

_refusals contains _reason("not_own_request", msg) if {
	_home_scope == "own"
	_attributes.submitter != input.subject
	msg := sprintf(
		"%s of %s grants %s only on the subject's own requests, and %s submitted this one",
		[_home.role, input.resource.workspace, input.action, _attributes.submitter],
	)
}

_refusals contains _reason("other_tenant", msg) if {
	not _home
	not _parent
	_workspace.type == "developer"
	some ws, m in _memberships
	m.status == "active"
	model.roles[m.role].grants[input.action] == "merchants"
	msg := sprintf(
		"%s of %s reaches only the merchants of %s, and %s belongs to %s",
		[m.role, ws, ws, input.resource.workspace, _workspace.tenant],
	)
}

_relevant[input.resource.workspace] := _home

_relevant[_workspace.tenant] := _parent

_relevant_type[input.resource.workspace] := _workspace.type

_relevant_type[_workspace.tenant] := "tenant" if _parent

_missing_attribute(name) := _reason(
	"missing_attribute",
	sprintf("%s needs resource.attributes.%s", [input.action, name]),
)
