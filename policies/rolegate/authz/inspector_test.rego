# Tests of a role added in one place
# The optional eighth role of DOMAIN.md, Mini Program Inspector, exists here only as a
# fixture: it and its new operation inspection:manual_review are added to the model
# with `with`, and the unchanged decision policy grants it what the domain says.
package rolegate.authz_test

import data.rolegate.authz
import data.rolegate.model

_inspector_role := {
	"title": "Mini Program Inspector",
	"workspace_type": "tenant",
	"grants": {
		"miniprogram:view": "merchants",
		"miniprogram:list": "merchants",
		"miniprogram:force_remove": "merchants",
		"miniprogram:send_warning": "merchants",
		"inspection:manual_review": "merchants",
		"workspace:view": "workspace",
		"request:submit": "workspace",
		"request:list_own": "own",
		"request:withdraw": "own",
	},
}

_roles_with_inspector := object.union(model.roles, {"mini_program_inspector": _inspector_role})

_operations_with_inspection := object.union(model.operations, {"inspection:manual_review": {}})

_inspector := {"t1": _active("mini_program_inspector")}

_decide_with_inspector(req) := d if {
	d := authz.decision with input as req
		with model.roles as _roles_with_inspector
		with model.operations as _operations_with_inspection
}

_inspector_codes(action, ws, extra) := _codes(_decide_with_inspector(_input(action, ws, extra, _inspector)))

_inspector_reach := [
	"miniprogram:view",
	"miniprogram:list",
	"miniprogram:force_remove",
	"miniprogram:send_warning",
	"inspection:manual_review",
]

test_inspector_reaches_the_tenant_and_its_merchants if {
	every action in _inspector_reach {
		_inspector_codes(action, "t1", {"id": "mp9"}) == {"granted"}
		_inspector_codes(action, "d1", {"id": "mp9"}) == {"granted"}
		_inspector_codes(action, "d2", {"id": "mp9"}) == {"no_membership", "other_tenant"}
	}
}

test_inspector_grant_names_the_role_and_the_merchant if {
	d := _decide_with_inspector(_input("inspection:manual_review", "d1", {"id": "mp3"}, _inspector))
	d == {"allow": true, "reasons": {{
		"code": "granted",
		"message": "mini_program_inspector of t1 grants inspection:manual_review in its merchant d1",
	}}}
}

test_inspector_views_and_submits_in_its_own_workspace_only if {
	every action in ["workspace:view", "request:submit"] {
		_inspector_codes(action, "t1", {}) == {"granted"}
		_inspector_codes(action, "d1", {}) == {"outside_scope"}
	}
}

test_inspector_lists_and_withdraws_only_its_own_requests if {
	every action in ["request:list_own", "request:withdraw"] {
		_inspector_codes(action, "t1", _attrs({"submitter": "alice", "state": "in_review"})) == {"granted"}
		_inspector_codes(action, "t1", _attrs({"submitter": "bob", "state": "in_review"})) == {"not_own_request"}
		_inspector_codes(action, "d1", _attrs({"submitter": "alice", "state": "in_review"})) == {"outside_scope"}
	}
}

test_inspector_is_denied_every_other_operation if {
	others := object.keys(_operations_with_inspection) - object.keys(_inspector_role.grants)
	count(others) == 46
	every action in others {
		_inspector_not_granted(action, "t1")
		_inspector_not_granted(action, "d1")
	}
	_inspector_codes("miniprogram:create", "t1", {}) == {"operation_not_granted"}
}

# developer_workspace operations in the tenant itself are also of the wrong type.
_inspector_not_granted(action, ws) if {
	d := _decide_with_inspector(_input(action, ws, {"id": "mp1"}, _inspector))
	d.allow == false
	"operation_not_granted" in _codes(d)
}

test_inspector_exists_only_in_the_fixture if {
	not "mini_program_inspector" in object.keys(model.roles)
	not "inspection:manual_review" in object.keys(model.operations)
	req := _input("inspection:manual_review", "d1", {"id": "mp9"}, _inspector)
	_codes(_decide(req)) == {"unknown_operation"}
	_codes(_decide(_input("miniprogram:view", "d1", {"id": "mp9"}, _inspector))) == {"operation_not_granted"}
}
