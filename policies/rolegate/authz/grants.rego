# Grants from memberships
# Which of the subject's memberships grant the operation, and why the others do not.
# A membership in the resource's own workspace (home) grants what its role grants
# within the role's scope; a membership in the tenant of a developer workspace
# (parent) grants only what its role grants with the merchants scope.
package rolegate.authz

import data.rolegate.model

_home := _memberships[input.resource.workspace]

_parent := _memberships[_workspace.tenant] if _workspace.type == "developer"

_home_scope := model.roles[_home.role].grants[input.action] if {
	_home.status == "active"
	model.roles[_home.role].workspace_type == _workspace.type
}

_parent_scope := model.roles[_parent.role].grants[input.action] if {
	_parent.status == "active"
	model.roles[_parent.role].workspace_type == "tenant"
}

_grants contains _reason("granted", msg) if {
	_in_home_scope(_home_scope)
	msg := sprintf("%s of %s grants %s", [_home.role, input.resource.workspace, input.action])
}

_grants contains _reason("granted", msg) if {
	_parent_scope == "merchants"
	msg := sprintf(
		"%s of %s grants %s in its merchant %s",
		[_parent.role, _workspace.tenant, input.action, input.resource.workspace],
	)
}

_in_home_scope("workspace")

_in_home_scope("merchants")

_in_home_scope("assigned") if input.resource.id in object.get(_home, "miniprograms", [])

_in_home_scope("assigned") if {
	not input.resource.id
	_operation.lists
}

_in_home_scope("own") if _attributes.submitter == input.subject
