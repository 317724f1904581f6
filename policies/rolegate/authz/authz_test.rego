# METADATA
# title: Tests of the authorization decision
# description: |
#   The entry points (decision, allow, reasons), the early answers for an unknown
#   operation or workspace, membership status, the union of memberships and the
#   data.memberships fallback. The fixtures and helpers here are shared by every
#   test file of the package.
package rolegate.authz_test

import data.rolegate.authz

# Two tenants, each with one merchant (developer workspace).
_workspaces := {
	"t1": {"type": "tenant"},
	"t2": {"type": "tenant"},
	"d1": {"type": "developer", "tenant": "t1"},
	"d2": {"type": "developer", "tenant": "t2"},
}

_member(role, status) := {"role": role, "status": status, "miniprograms": ["mp1", "mp2"]}

_active(role) := _member(role, "active")

# _input is alice's request for action on a resource of workspace ws; extra is merged
# into the resource (id, attributes); memberships are alice's, by workspace id.
_input(action, ws, extra, memberships) := {
	"subject": "alice",
	"action": action,
	"resource": object.union({"workspace": ws}, extra),
	"facts": object.union({"memberships": memberships}, _workspace_fact(ws)),
}

_workspace_fact(ws) := {"workspace": _workspaces[ws]} if {
	ws in object.keys(_workspaces)
} else := {}

_attrs(attributes) := {"attributes": attributes}

_decide(req) := d if {
	d := authz.decision with input as req
}

_codes(d) := {r.code | some r in d.reasons}

_allowed := {"allow": true, "codes": {"granted"}}

_denied(codes) := {"allow": false, "codes": codes}

# _failed names the cases, {note: {"input", "want"}}, whose decision is not the one wanted.
_failed(cases) := {note |
	some note, c in cases
	not _outcome_is(c.input, c.want)
}

_outcome_is(req, want) if {
	d := _decide(req)
	d.allow == want.allow
	_codes(d) == want.codes
}

test_allow_is_false_by_default if {
	authz.allow == false with input as {}
	authz.decision.allow == false with input as {}
}

test_decision_is_allow_and_reasons if {
	every req in [
		_input("workspace:view", "t1", {}, {"t1": _active("workspace_admin")}),
		_input("workspace:update", "t1", {}, {"t1": _active("workspace_operator")}),
	] {
		_well_formed(req)
	}
}

_well_formed(req) if {
	d := _decide(req)
	object.keys(d) == {"allow", "reasons"}
	is_boolean(d.allow)
	d.allow == authz.allow with input as req
	d.reasons == authz.reasons with input as req
	count(d.reasons) > 0
	every r in d.reasons {
		object.keys(r) == {"code", "message"}
		is_string(r.code)
		is_string(r.message)
	}
}

test_allowed_reasons_name_each_granting_membership if {
	req := _input("miniprogram:view", "d1", {}, {
		"t1": _active("workspace_admin"),
		"d1": _active("developer_admin"),
	})
	_decide(req) == {"allow": true, "reasons": {
		{"code": "granted", "message": "developer_admin of d1 grants miniprogram:view"},
		{"code": "granted", "message": "workspace_admin of t1 grants miniprogram:view in its merchant d1"},
	}}
}

test_unknown_operation_is_the_only_reason if {
	want := {"allow": false, "reasons": {{
		"code": "unknown_operation",
		"message": "operation \"miniprogram:fly\" is not known",
	}}}
	every ws in ["t1", "nowhere"] {
		_decide(_input("miniprogram:fly", ws, {}, {"t1": _active("workspace_admin")})) == want
	}
}

test_unknown_workspace_is_the_only_reason if {
	d := _decide(_input("workspace:view", "nowhere", {}, {"nowhere": _active("workspace_admin")}))
	d == {"allow": false, "reasons": {{"code": "unknown_workspace", "message": "workspace \"nowhere\" is not known"}}}
}

test_blocked_member_is_denied_everything if {
	want := {"allow": false, "reasons": {{"code": "member_blocked", "message": "alice is blocked in t1"}}}
	every action in ["workspace:view", "member:list", "request:submit", "miniprogram:create"] {
		_decide(_input(action, "t1", {}, {"t1": _member("workspace_admin", "blocked")})) == want
	}
}

test_blocked_in_merchant_overrides_tenant_admin_reach if {
	# member_blocked is a hard denial: the tenant admin's merchants grant does not lift it.
	memberships := {"t1": _active("workspace_admin"), "d1": _member("developer", "blocked")}
	want := {"allow": false, "reasons": {{"code": "member_blocked", "message": "alice is blocked in d1"}}}
	every action in ["miniprogram:view", "developer_workspace:view", "approval:list"] {
		_decide(_input(action, "d1", {}, memberships)) == want
	}
}

test_invited_member_is_denied_everything if {
	want := {"allow": false, "reasons": {{
		"code": "member_invited",
		"message": "alice is invited to d1 and has not accepted",
	}}}
	every action in ["workspace:view", "member:list", "request:submit"] {
		_decide(_input(action, "d1", {}, {"d1": _member("developer_admin", "invited")})) == want
	}
}

test_invited_in_merchant_stops_tenant_admin_reach if {
	# Rule 7: an invited member gets nothing in that workspace, as a blocked one does,
	# even where a tenant role would reach into it.
	memberships := {"t1": _active("workspace_admin"), "d1": _member("developer", "invited")}
	_outcome_is(_input("miniprogram:view", "d1", {}, memberships), _denied({"member_invited"}))
	_outcome_is(_input("workspace:view", "d1", {}, memberships), _denied({"member_invited", "outside_scope"}))
}

_union := {"t1": _active("workspace_reviewer"), "d1": _active("developer"), "d2": _active("operator")}

_union_cases := {
	"reviewer approves in its merchant": {
		"input": _input("approval:approve", "d1", _attrs({"submitter": "bob", "state": "in_review"}), _union),
		"want": _allowed,
	},
	"developer updates its assigned mini program": {
		"input": _input("miniprogram:update", "d1", {"id": "mp1"}, _union),
		"want": _allowed,
	},
	"developer grants stay in their workspace": {
		"input": _input("miniprogram:update", "d2", {"id": "mp1"}, _union),
		"want": _denied({"operation_not_granted"}),
	},
	"operator grants stay in their workspace": {
		"input": _input("marketing.campaign:manage", "d1", {}, _union),
		"want": _denied({"operation_not_granted"}),
	},
	"operator manages campaigns in its own workspace": {
		"input": _input("marketing.campaign:manage", "d2", {}, _union),
		"want": _allowed,
	},
	"reviewer grants nothing it lacks in the tenant": {
		"input": _input("miniprogram:update", "t1", {"id": "mp1"}, _union),
		"want": _denied({"operation_not_granted"}),
	},
	"reviewer does not reach another tenant's merchant": {
		"input": _input("approval:list", "d2", {}, _union),
		"want": _denied({"operation_not_granted"}),
	},
}

test_memberships_grant_their_union_each_in_its_workspace if {
	_failed(_union_cases) == set()
}

_data_memberships := {
	"workspaces": _workspaces,
	"users": {
		"alice": {"t1": _active("workspace_admin")},
		"carol": {"d1": _member("developer_admin", "blocked")},
	},
}

# _plain is a request without input.facts, the shape a plain OPA server receives.
_plain(subject, action, ws) := {"subject": subject, "action": action, "resource": {"workspace": ws}}

_decide_from_data(req) := d if {
	d := authz.decision with input as req with data.memberships as _data_memberships
}

test_facts_are_read_from_data_memberships_without_input_facts if {
	_decide_from_data(_plain("alice", "miniprogram:view", "d1")) == {"allow": true, "reasons": {{
		"code": "granted",
		"message": "workspace_admin of t1 grants miniprogram:view in its merchant d1",
	}}}
	_codes(_decide_from_data(_plain("alice", "miniprogram:view", "d2"))) == {"no_membership", "other_tenant"}
	_codes(_decide_from_data(_plain("bob", "workspace:view", "t1"))) == {"no_membership"}
	_codes(_decide_from_data(_plain("carol", "workspace:view", "d1"))) == {"member_blocked"}
	_codes(_decide_from_data(_plain("alice", "workspace:view", "nowhere"))) == {"unknown_workspace"}
}

test_input_facts_take_precedence_over_data_memberships if {
	# data.memberships makes alice a tenant admin; the facts given make her nobody.
	req := _input("workspace:view", "t1", {}, {})
	d := authz.decision with input as req with data.memberships as _data_memberships
	_codes(d) == {"no_membership"}
}

test_a_denial_without_any_explanation_still_has_a_reason if {
	req := _input("workspace:view", "t1", {}, {"t1": _active("workspace_admin")})
	authz.reasons == {{"code": "not_granted", "message": "no membership grants the operation"}} with input as req
		with authz.allow as false
		with authz._explanations as set()
}
