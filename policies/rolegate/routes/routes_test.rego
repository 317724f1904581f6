# METADATA
# title: Tests of the route table
# description: |
#   The table is complete, well formed and unambiguous, and a gateway asks only
#   what it can answer. Each check is a set of offenders, so that a failure names
#   what is wrong; the last tests feed the checks broken tables to show that they
#   catch them.
package rolegate.routes_test

import data.rolegate.model
import data.rolegate.routes

_methods := {"GET", "POST", "PUT", "PATCH", "DELETE"}

_template := `^(/([a-z0-9]+(-[a-z0-9]+)*|\{[a-z_]+\}))+$`

_method(key) := split(key, " ")[0]

_path(key) := split(key, " ")[1]

_segments(key) := split(trim_prefix(_path(key), "/"), "/")

_params(key) := [s | some s in _segments(key); startswith(s, "{")]

_is_param(segment) if startswith(segment, "{")

_unknown_operations(table) := {key | some key, op in table; not model.operations[op]}

_missing_operations(table) := {op |
	some op, _ in model.operations
	every _, routed in table { routed != op }
}

_malformed(table) := {key |
	some key, _ in table
	not _well_formed(key)
}

_well_formed(key) if {
	count(split(key, " ")) == 2
	_method(key) in _methods
	regex.match(_template, _path(key))
	count([p | some p in _params(key); p == "{workspace}"]) == 1
	count(_params(key)) == count({p | some p in _params(key)})
	every i, s in _segments(key) {
		_placed(_segments(key), i, s)
	}
}

# {id} is a mini program id, so it comes right after "miniprograms".
_placed(_, _, s) if s != "{id}"

_placed(segments, i, "{id}") if segments[i - 1] == "miniprograms"

# Two routes are ambiguous when one request could match both: the same method, the
# same number of segments, and at each position equal literals or a parameter.
_ambiguous(table) := {sprintf("%s | %s", [a, b]) |
	some a, _ in table
	some b, _ in table
	a < b
	_overlap(a, b)
}

_overlap(a, b) if {
	_method(a) == _method(b)
	count(_segments(a)) == count(_segments(b))
	every i, s in _segments(a) {
		_compatible(s, _segments(b)[i])
	}
}

_compatible(s, s)

_compatible(s, _) if _is_param(s)

_compatible(_, s) if _is_param(s)

# A gateway check must be granted, by every role that grants the operation, at least
# as widely: the gateway must never deny what the full check would allow.
_narrow_checks(checks) := {sprintf("%s: %s grants %s %s, %s only %v", [op, id, op, scope, check, got]) |
	some op, check in checks
	some id, role in model.roles
	scope := role.grants[op]
	got := object.get(role.grants, check, "nothing")
	not _covers(got, scope)
}

_covers(scope, scope)

_covers("merchants", "workspace")

_covers("merchants", "assigned")

_covers("workspace", "assigned")

_covers("workspace", "own")

# What the gateway asks must be answerable from the path and the subject alone: no
# condition that denies for want of an attribute, no grant limited to own requests.
_answerable_conditions := {"production_gate", "developer_workspace", "not_self", "role_fits_workspace"}

_unanswerable(table, checks) := {sprintf("%s asks %s", [key, asked]) |
	some key, op in table
	asked := object.get(checks, op, op)
	not _answerable(asked)
}

_answerable(op) if {
	every c in object.get(model.operations[op], "conditions", []) {
		c in _answerable_conditions
	}
	every role in model.roles {
		object.get(role.grants, op, "") != "own"
	}
}

_unknown_checks(checks) := {op |
	some op, check in checks
	not _known_pair(op, check)
}

_known_pair(op, check) if {
	model.operations[op]
	model.operations[check]
}

test_every_route_names_a_known_operation if {
	_unknown_operations(routes.routes) == set()
}

test_every_operation_has_a_route if {
	_missing_operations(routes.routes) == set()
}

test_every_route_is_a_method_and_a_well_formed_template if {
	_malformed(routes.routes) == set()
}

test_no_two_routes_match_the_same_request if {
	_ambiguous(routes.routes) == set()
}

test_every_gateway_check_names_known_operations if {
	_unknown_checks(routes.gateway_checks) == set()
}

test_every_gateway_check_is_granted_at_least_as_widely if {
	_narrow_checks(routes.gateway_checks) == set()
}

test_the_gateway_asks_only_what_it_can_answer if {
	_unanswerable(routes.routes, routes.gateway_checks) == set()
}

test_the_examples_of_the_issue if {
	routes.routes["POST /api/workspaces/{workspace}/miniprograms"] == "miniprogram:create"
	routes.routes["POST /api/workspaces/{workspace}/miniprograms/{id}/versions"] == "miniprogram.version:upload"
}

test_the_checks_catch_unknown_and_missing_operations if {
	broken := {"GET /api/workspaces/{workspace}": "workspace:fly"}
	_unknown_operations(broken) == {"GET /api/workspaces/{workspace}"}
	"workspace:view" in _missing_operations(broken)
}

test_the_checks_catch_malformed_templates if {
	broken := {
		"GET /api/workspaces/{workspace}/": "workspace:view",
		"GET /api//workspaces/{workspace}": "workspace:view",
		"FETCH /api/workspaces/{workspace}": "workspace:view",
		"GET /api/workspaces": "workspace:view",
		"GET /api/{workspace}/x/{workspace}": "workspace:view",
		"GET /api/workspaces/{workspace}/apps/{id}": "miniprogram:view",
		"GET /api/workspaces/{workspace}/Apps": "miniprogram:list",
		"GET  /api/workspaces/{workspace}": "workspace:view",
		"GET /api/workspaces/{workspace}/{id}/{id}": "miniprogram:view",
	}
	_malformed(broken) == object.keys(broken)
}

test_the_checks_catch_ambiguous_routes if {
	broken := {
		"GET /api/workspaces/{workspace}/requests/{request}": "request:list_own",
		"GET /api/workspaces/{workspace}/requests/mine": "request:list_own",
		"POST /api/workspaces/{workspace}/requests/mine": "request:submit",
		"GET /api/workspaces/{other}/requests/{request}/x": "request:list_own",
	}
	_ambiguous(broken) == {
		"GET /api/workspaces/{workspace}/requests/mine | GET /api/workspaces/{workspace}/requests/{request}",
	}
}

test_the_checks_catch_bad_gateway_checks if {
	_unknown_checks({"approval:approve": "approval:peek"}) == {"approval:approve"}
	_narrow_checks({"miniprogram:view": "miniprogram:create"}) != set()
	_unanswerable({"POST /api/workspaces/{workspace}/approvals/{r}/approve": "approval:approve"}, {}) != set()
	_unanswerable({"GET /api/workspaces/{workspace}/requests": "request:list_own"}, {}) != set()
}
