# METADATA
# title: Tests of the role model
# description: |
#   The model is well formed: every name a role or an operation uses is declared.
#   Each check is a set of offenders, so that a failure names what is wrong; the
#   last tests feed the checks a broken model to show that they catch it.
package rolegate.model_test

import data.rolegate.model

_roles_of_unknown_type := {id |
	some id, role in model.roles
	not role.workspace_type in model.workspace_types
}

_grants_of_unknown_operations := {sprintf("%s grants %s", [id, op]) |
	some id, role in model.roles
	some op, _ in role.grants
	not model.operations[op]
}

_grants_of_unknown_scopes := {sprintf("%s grants %s with %v", [id, op, scope]) |
	some id, role in model.roles
	some op, scope in role.grants
	not scope in model.scopes
}

_unknown_conditions := {sprintf("%s needs %v", [op, condition]) |
	some op, spec in model.operations
	some condition in object.get(spec, "conditions", [])
	not condition in model.conditions
}

_roles_without_title := {id |
	some id, role in model.roles
	not _has_title(role)
}

_has_title(role) if {
	is_string(role.title)
	trim_space(role.title) != ""
}

test_every_role_belongs_to_a_known_workspace_type if {
	_roles_of_unknown_type == set()
}

test_every_granted_operation_is_declared if {
	_grants_of_unknown_operations == set()
}

test_every_grant_uses_a_known_scope if {
	_grants_of_unknown_scopes == set()
}

test_every_operation_condition_is_declared if {
	_unknown_conditions == set()
}

test_every_role_has_a_title if {
	_roles_without_title == set()
}

test_the_seven_roles_of_the_domain_are_declared if {
	object.keys(model.roles) == {
		"workspace_admin", "workspace_reviewer", "workspace_developer", "workspace_operator",
		"developer_admin", "developer", "operator",
	}
}

test_every_role_has_only_known_fields if {
	every role in model.roles {
		object.keys(role) == {"title", "workspace_type", "grants"}
		is_object(role.grants)
	}
}

test_every_operation_is_named_resource_action if {
	every op, spec in model.operations {
		regex.match(`^[a-z_]+(\.[a-z_]+)*:[a-z_]+$`, op)
		is_object(spec)
		object.keys(spec) - {"conditions", "lists"} == set()
	}
}

test_only_miniprogram_list_is_a_listing if {
	{op | some op, spec in model.operations; spec.lists} == {"miniprogram:list"}
}

test_every_declared_condition_is_used if {
	used := {c | some spec in model.operations; some c in object.get(spec, "conditions", [])}
	used == model.conditions
}

test_every_operation_is_granted_to_some_role if {
	granted := {op | some role in model.roles; some op, _ in role.grants}
	object.keys(model.operations) - granted == set()
}

test_only_tenant_roles_reach_merchants if {
	reaching := {id | some id, role in model.roles; some scope in role.grants; scope == "merchants"}
	every id in reaching {
		model.roles[id].workspace_type == "tenant"
	}
	count(reaching) > 0
}

test_each_workspace_type_has_a_member_manager if {
	every type in model.workspace_types {
		some role in model.roles
		role.workspace_type == type
		role.grants["member:assign_role"] == "workspace"
	}
}

_broken_roles := {"ghost": {
	"workspace_type": "galaxy",
	"grants": {"miniprogram:fly": "workspace", "workspace:view": "universe"},
}}

_broken_operations := {"workspace:view": {"conditions": ["full_moon"]}}

test_checks_catch_a_broken_model if {
	_roles_of_unknown_type == {"ghost"} with model.roles as _broken_roles
	_grants_of_unknown_operations == {"ghost grants miniprogram:fly"} with model.roles as _broken_roles
	_grants_of_unknown_scopes == {"ghost grants workspace:view with universe"} with model.roles as _broken_roles
	_roles_without_title == {"ghost"} with model.roles as _broken_roles
	_unknown_conditions == {"workspace:view needs full_moon"} with model.operations as _broken_operations
}
