# Tests of the role matrix
# The matrix of DOMAIN.md, written out again here independently of the model, and the
# decision for every cell of it: W is a cell for the member's own workspace (✓), A for
# assigned mini programs, + for the workspace and its merchants (✓+), O for own
# requests and x for denied. The fixtures are in authz_test.rego.
package rolegate.authz_test

import data.rolegate.model

_columns := [
	"workspace_admin", "workspace_reviewer", "workspace_developer", "workspace_operator",
	"developer_admin", "developer", "operator",
]

_matrix := {
	# WA  WR  WD  WO  DA  Dev Op
	"miniprogram:view": "+ A A A W A A",
	"miniprogram:list": "+ x W x W A x",
	"miniprogram:create": "W x W x W x x",
	"miniprogram:update": "W x W x W A x",
	"miniprogram:delete": "W x W x W A x",
	"miniprogram:take_offline": "W x W x W A x",
	"miniprogram:force_remove": "+ x x x x x x",
	"miniprogram:send_warning": "+ x x x x x x",
	"miniprogram.member:manage": "W x x x W x x",
	"miniprogram.config:edit": "W x W x W A x",
	"miniprogram.version:upload": "W x W x W A x",
	"miniprogram.version:manage": "W x W x W A x",
	"miniprogram.release:apply": "W x W x W A x",
	"miniprogram.release:withdraw": "W x W x W A x",
	"miniprogram.release:pilot_test": "W x W x W A x",
	"miniprogram.release:grayscale": "W x W x W A x",
	"miniprogram.release:full_release": "W x W x W A x",
	"miniprogram.release:cancel": "W x W x W A x",
	"feature:view": "W x W x W x x",
	"feature:add": "W x W x W x x",
	"feature:edit": "W x W x W x x",
	"jsapi:view": "W x W x W x x",
	"jsapi:add": "W x W x W x x",
	"jsapi:edit": "W x W x W x x",
	"analytics:view_performance": "+ x A x W A x",
	"analytics:view_user_behavior": "+ x A W W A W",
	"analytics:view_transactions": "+ x x W W x W",
	"quality:view": "+ x A x W A x",
	"workspace:view": "W W W W W W W",
	"workspace:update": "W x x x W x x",
	"developer_workspace:view": "+ x x x x x x",
	"developer_workspace:delete": "+ x x x x x x",
	"member:list": "W W W W W W W",
	"member:invite": "W x x x W x x",
	"member:resend_invite": "W x x x W x x",
	"member:withdraw_invite": "W x x x W x x",
	"member:assign_role": "W x x x W x x",
	"member:block": "W x x x W x x",
	"member:unblock": "W x x x W x x",
	"member:remove": "W x x x W x x",
	"approval:list": "+ + x x x x x",
	"approval:approve": "+ + x x x x x",
	"approval:reject": "+ + x x x x x",
	"request:submit": "W W W W W W W",
	"request:list_own": "O O O O O O O",
	"request:withdraw": "O O O O O O O",
	"marketing.campaign:manage": "W x x W W x W",
	"marketing.audience:manage": "W x x W W x W",
	"marketing.delivery:manage": "W x x W W x W",
	"marketing.template:view": "W x W W W W W",
	"marketing.template:manage": "W x x W x x x",
	"marketing.feedback:view": "+ x x + x x x",
	"marketing.feedback:respond": "+ x x + x x x",
	"announcement:publish": "W x x x x x x",
}

_scope_of := {"W": "workspace", "A": "assigned", "+": "merchants", "O": "own"}

# _cells is every cell of the matrix as [operation, role, symbol].
_cells := {[op, role, symbol] |
	some op, row in _matrix
	some i, symbol in split(row, " ")
	role := _columns[i]
}

test_matrix_has_a_cell_for_every_operation_and_role if {
	object.keys(_matrix) == object.keys(model.operations)
	every row in _matrix {
		count(split(row, " ")) == count(_columns)
	}
}

test_model_grants_exactly_the_matrix if {
	{[op, role, _scope_of[symbol]] | some [op, role, symbol] in _cells; symbol != "x"} == {[op, role, scope] |
		some role, spec in model.roles
		some op, scope in spec.grants
	}
}

_home_of := {"tenant": "t1", "developer": "d1"}

# _request is a request by alice, member with role of its home workspace, for op on
# workspace ws, with attributes that pass every condition.
_request(op, role, ws, id, submitter) := _input(
	op, ws, {"id": id, "attributes": {
		"submitter": submitter,
		"state": "in_review",
		"published_miniprograms": 0,
		"member": "bob",
		"role": {"t1": "workspace_reviewer", "d1": "operator", "t2": "workspace_reviewer", "d2": "operator"}[ws],
	}},
	{_home(role): _active(role)},
)

_home(role) := _home_of[model.roles[role].workspace_type]

_merchant_of := {"t1": "d1", "d1": "d2"}

# _cell_holds states what each symbol means for a member with role, in decisions.
_cell_holds(op, role, "W") if {
	_outcome_is(_request(op, role, _home(role), "mp9", "bob"), _allowed)
	_outcome_is(_request(op, role, _merchant_of[_home(role)], "mp9", "bob"), _denied(_codes_away(role)))
}

_cell_holds(op, role, "A") if {
	_outcome_is(_request(op, role, _home(role), "mp1", "bob"), _allowed)
	_outcome_is(_request(op, role, _home(role), "mp9", "bob"), _denied({"not_assigned"}))
}

_cell_holds(op, role, "+") if {
	_outcome_is(_request(op, role, "d1", "mp9", "bob"), _allowed)
	_outcome_is(_request(op, role, "d2", "mp9", "bob"), _denied({"no_membership", "other_tenant"}))
	_outcome_is(_request(op, role, "t1", "mp9", "bob"), _home_merchants_want(op))
}

_cell_holds(op, role, "O") if {
	_outcome_is(_request(op, role, _home(role), "mp9", "alice"), _allowed)
	_outcome_is(_request(op, role, _home(role), "mp9", "bob"), _denied({"not_own_request"}))
}

# A denied cell may meet other refusals too (a developer_workspace operation in a tenant
# workspace is also of the wrong type); operation_not_granted must be among them.
_cell_holds(op, role, "x") if {
	d := _decide(_request(op, role, _home(role), "mp1", "bob"))
	d.allow == false
	"operation_not_granted" in _codes(d)
}

# Away from home a tenant role meets its merchant (outside_scope), a developer role
# another merchant (no_membership).
_codes_away(role) := {"outside_scope"} if model.roles[role].workspace_type == "tenant"

_codes_away(role) := {"no_membership"} if model.roles[role].workspace_type == "developer"

_home_merchants_want(op) := _denied({"wrong_workspace_type"}) if startswith(op, "developer_workspace:")

_home_merchants_want(op) := _allowed if not startswith(op, "developer_workspace:")

test_every_matrix_cell_decides_as_the_domain_says if {
	{sprintf("%s for %s (%s)", [op, role, symbol]) |
		some [op, role, symbol] in _cells
		not _cell_holds(op, role, symbol)
	} == set()
}
