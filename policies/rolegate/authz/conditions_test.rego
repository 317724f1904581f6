# Tests of the conditions
# The rules beyond the role table, each with the attributes that satisfy it, fail it
# and are missing. The fixtures are in authz_test.rego.
package rolegate.authz_test

import data.rolegate.authz

_reviewer := {"t1": _active("workspace_reviewer")}

_review(action, ws, attributes, memberships) := {
	"input": _input(action, ws, _attrs(attributes), memberships),
	"want": _allowed,
}

_review_denied(action, ws, attributes, memberships, codes) := {
	"input": _input(action, ws, _attrs(attributes), memberships),
	"want": _denied(codes),
}

_separation_cases := {
	"approve another's request": _review(
		"approval:approve",
		"t1",
		{"submitter": "bob", "state": "in_review"},
		_reviewer,
	),
	"approve one's own request": _review_denied(
		"approval:approve", "t1", {"submitter": "alice", "state": "in_review"}, _reviewer,
		{"own_request"},
	),
	"reject one's own request": _review_denied(
		"approval:reject", "d1", {"submitter": "alice", "state": "in_review"}, _reviewer,
		{"own_request"},
	),
	"tenant admin rejects own request": _review_denied(
		"approval:reject", "t1", {"submitter": "alice", "state": "in_review"}, _admin,
		{"own_request"},
	),
	"approve without a submitter": _review_denied(
		"approval:approve", "t1", {"state": "in_review"}, _reviewer,
		{"missing_attribute"},
	),
}

test_nobody_approves_or_rejects_their_own_request if {
	_failed(_separation_cases) == set()
}

test_own_request_and_missing_submitter_messages if {
	_reasons_of("approval:approve", "t1", _attrs({"submitter": "alice", "state": "in_review"}), _reviewer) == {{
		"code": "own_request",
		"message": "alice submitted this request and may not approve or reject it (approval:approve)",
	}}
	_reasons_of("approval:reject", "t1", _attrs({"state": "in_review"}), _reviewer) == {{
		"code": "missing_attribute",
		"message": "approval:reject needs resource.attributes.submitter",
	}}
}

_review_state_cases := {
	"approve in review": _review("approval:approve", "d1", {"submitter": "bob", "state": "in_review"}, _admin),
	"approve approved": _review_denied(
		"approval:approve", "d1", {"submitter": "bob", "state": "approved"}, _admin,
		{"request_not_in_review"},
	),
	"reject rejected": _review_denied(
		"approval:reject", "d1", {"submitter": "bob", "state": "rejected"}, _admin,
		{"request_not_in_review"},
	),
	"approve without state": _review_denied(
		"approval:approve", "d1", {"submitter": "bob"}, _admin,
		{"missing_attribute"},
	),
	"withdraw in review": _review("request:withdraw", "t1", {"submitter": "alice", "state": "in_review"}, _admin),
	"withdraw withdrawn": _review_denied(
		"request:withdraw", "t1", {"submitter": "alice", "state": "withdrawn"}, _admin,
		{"request_not_in_review"},
	),
	"withdraw without state": _review_denied(
		"request:withdraw", "t1", {"submitter": "alice"}, _admin,
		{"missing_attribute"},
	),
}

test_only_requests_in_review_are_approved_rejected_or_withdrawn if {
	_failed(_review_state_cases) == set()
}

test_request_not_in_review_and_missing_state_messages if {
	_reasons_of("approval:approve", "t1", _attrs({"submitter": "bob", "state": "approved"}), _reviewer) == {{
		"code": "request_not_in_review",
		"message": "approval:approve needs a request in review, and this one is approved",
	}}
	_reasons_of("request:withdraw", "t1", _attrs({"submitter": "alice"}), _reviewer) == {{
		"code": "missing_attribute",
		"message": "request:withdraw needs resource.attributes.state",
	}}
}

_gated := [
	"miniprogram.release:pilot_test",
	"miniprogram.release:grayscale",
	"miniprogram.release:full_release",
	"miniprogram:take_offline",
]

# _gate_cases pairs resource attributes with the codes of the decision they lead to,
# empty when allowed.
_gate_cases := {
	"production without approval": [{"environment": "production"}, {"approval_required"}],
	"production, approved false": [{"environment": "production", "approved": false}, {"approval_required"}],
	"production, approved as a string": [
		{"environment": "production", "approved": "true"},
		{"approval_required", "invalid_attribute"},
	],
	"production, approved": [{"environment": "production", "approved": true}, set()],
	"test environment": [{"environment": "test"}, set()],
	"sandbox environment": [{"environment": "sandbox"}, set()],
	"no environment": [{}, set()],
}

_gate_failures(memberships, id) := {sprintf("%s: %s", [action, note]) |
	some action in _gated
	some note, [attributes, codes] in _gate_cases
	not _outcome_is(_input(action, "d1", object.union({"id": id}, _attrs(attributes)), memberships), _gate_want(codes))
}

_gate_want(codes) := _allowed if count(codes) == 0

_gate_want(codes) := _denied(codes) if count(codes) > 0

test_production_gate_needs_an_approval_in_production_only if {
	_gate_failures(_developer_admin, "mp9") == set()
	_gate_failures(_developer, "mp1") == set()
}

test_production_gate_leaves_other_operations_alone if {
	every action in ["miniprogram.release:apply", "miniprogram.release:cancel", "miniprogram:update"] {
		_outcome_is(_input(action, "d1", _attrs({"environment": "production"}), _developer_admin), _allowed)
	}
}

test_approval_required_message_names_the_operation if {
	_reasons_of("miniprogram.release:full_release", "d1", _attrs({"environment": "production"}), _developer_admin) == {{
		"code": "approval_required",
		"message": "miniprogram.release:full_release in production needs an approved request",
	}}
}

test_developer_workspace_operations_act_on_developer_workspaces_only if {
	every action in ["developer_workspace:view", "developer_workspace:delete"] {
		_codes(_decide(_input(action, "t1", _attrs({"published_miniprograms": 0}), _admin))) == {"wrong_workspace_type"}
	}
	_reasons_of("developer_workspace:view", "t1", {}, _admin) == {{
		"code": "wrong_workspace_type",
		"message": "developer_workspace:view applies to developer workspaces, and t1 is a tenant workspace",
	}}
}

# 2026-01-01T00:00:00Z, the fixed now of the deletion tests.
_now := 1767225600000000000

_decide_at(req, now) := d if {
	d := authz.decision with input as req with time.now_ns as now
}

_deletion_cases := {
	"nothing published, never uploaded": [{"published_miniprograms": 0}, {"granted"}],
	"published missing": [{}, {"missing_attribute"}],
	"published null": [{"published_miniprograms": null}, {"invalid_attribute"}],
	"two published": [{"published_miniprograms": 2}, {"has_published_miniprograms"}],
	"upload 61 days ago": [_uploaded("2025-11-01T00:00:00Z"), {"granted"}],
	"upload exactly 30 days ago": [_uploaded("2025-12-02T00:00:00Z"), {"granted"}],
	"upload 29 days ago": [_uploaded("2025-12-03T00:00:00Z"), {"recent_upload"}],
	"upload 29 days ago in another zone": [_uploaded("2025-12-03T08:00:00+08:00"), {"recent_upload"}],
	"upload 30 days ago in another zone": [_uploaded("2025-12-02T07:00:00+07:00"), {"granted"}],
	"upload in the future": [_uploaded("2026-02-01T00:00:00Z"), {"recent_upload"}],
	"upload not a time": [_uploaded("last week"), {"invalid_attribute"}],
	"upload a number": [_uploaded(1764633600), {"invalid_attribute"}],
	"published and recent": [
		{"published_miniprograms": 1, "last_upload_at": "2025-12-31T00:00:00Z"},
		{"has_published_miniprograms", "recent_upload"},
	],
}

_uploaded(at) := {"published_miniprograms": 0, "last_upload_at": at}

_deletion_failures := {note |
	some note, [attributes, codes] in _deletion_cases
	req := _input("developer_workspace:delete", "d1", _attrs(attributes), _admin)
	not _codes(_decide_at(req, _now)) == codes
}

test_developer_workspace_is_deleted_only_when_idle if {
	_deletion_failures == set()
}

test_deletion_refusal_messages if {
	attributes := {"published_miniprograms": 3, "last_upload_at": "2025-12-20T10:00:00Z"}
	d := _decide_at(_input("developer_workspace:delete", "d1", _attrs(attributes), _admin), _now)
	d.reasons == {
		{"code": "has_published_miniprograms", "message": "d1 has 3 published mini programs; it must have none"},
		{"code": "recent_upload", "message": "d1 had an upload at 2025-12-20T10:00:00Z, less than 30 days ago"},
	}
	invalid := _input("developer_workspace:delete", "d1", _attrs(_uploaded("yesterday")), _admin)
	_decide_at(invalid, _now).reasons == {{
		"code": "invalid_attribute",
		"message": "resource.attributes.last_upload_at must be an RFC 3339 time, not \"yesterday\"",
	}}
}

_member_change_cases := {
	"block someone else": _review("member:block", "d1", {"member": "bob"}, _developer_admin),
	"block oneself": _review_denied(
		"member:block", "d1", {"member": "alice"}, _developer_admin,
		{"self_membership_change"},
	),
	"unblock oneself": _review_denied("member:unblock", "t1", {"member": "alice"}, _admin, {"self_membership_change"}),
	"remove oneself": _review_denied("member:remove", "t1", {"member": "alice"}, _admin, {"self_membership_change"}),
	"re-role oneself": _review_denied(
		"member:assign_role", "d1", {"member": "alice", "role": "developer"}, _developer_admin,
		{"self_membership_change"},
	),
	"re-role someone else": _review(
		"member:assign_role",
		"d1",
		{"member": "bob", "role": "operator"},
		_developer_admin,
	),
	"no member named": _review("member:remove", "d1", {}, _developer_admin),
	"invite is no change of one's membership": _review("member:invite", "t1", {"member": "alice"}, _admin),
}

test_nobody_changes_their_own_membership if {
	_failed(_member_change_cases) == set()
}

test_self_membership_change_message if {
	_reasons_of("member:remove", "d1", _attrs({"member": "alice"}), _developer_admin) == {{
		"code": "self_membership_change",
		"message": "alice may not change their own membership (member:remove)",
	}}
}

_role_given_cases := {
	"developer role in a developer workspace": _review("member:invite", "d1", {"role": "developer"}, _developer_admin),
	"tenant role in a developer workspace": _review_denied(
		"member:invite", "d1", {"role": "workspace_admin"}, _developer_admin,
		{"role_workspace_mismatch"},
	),
	"tenant role in a tenant workspace": _review("member:assign_role", "t1", {"role": "workspace_reviewer"}, _admin),
	"developer role in a tenant workspace": _review_denied(
		"member:assign_role", "t1", {"role": "operator"}, _admin,
		{"role_workspace_mismatch"},
	),
	"unknown role": _review_denied("member:invite", "t1", {"role": "root"}, _admin, {"role_workspace_mismatch"}),
	"no role named": _review("member:invite", "t1", {}, _admin),
}

test_a_role_is_given_only_in_its_workspace_type if {
	_failed(_role_given_cases) == set()
}

test_role_given_mismatch_message if {
	_reasons_of("member:invite", "d1", _attrs({"role": "workspace_admin"}), _developer_admin) == {{
		"code": "role_workspace_mismatch",
		"message": "role workspace_admin cannot be given in developer workspace d1",
	}}
}

# Each case states one attribute of the wrong kind on a request that would otherwise be
# allowed; every one must deny, and say invalid_attribute among its reasons.
_invalid_attribute_cases := {
	"empty submitter": ["approval:approve", {"submitter": "", "state": "in_review"}],
	"submitter false": ["approval:approve", {"submitter": false, "state": "in_review"}],
	"state in capitals": ["approval:approve", {"submitter": "bob", "state": "IN_REVIEW"}],
	"unknown state": ["request:withdraw", {"submitter": "alice", "state": "pending"}],
	"environment in capitals": ["miniprogram:take_offline", {"environment": "PRODUCTION"}],
	"approved as a string": ["miniprogram:take_offline", {"environment": "production", "approved": "true"}],
	"published as a string": ["developer_workspace:delete", {"published_miniprograms": "0"}],
	"published negative": ["developer_workspace:delete", {"published_miniprograms": -1}],
	"published a fraction": ["developer_workspace:delete", {"published_miniprograms": 0.5}],
	"upload false": ["developer_workspace:delete", {"published_miniprograms": 0, "last_upload_at": false}],
	"empty member": ["member:block", {"member": ""}],
	"role a number": ["member:invite", {"role": 7}],
}

_invalid_attribute_failures := {note |
	some note, [action, attributes] in _invalid_attribute_cases
	ws := _invalid_attribute_workspace(action)
	d := _decide_at(_input(action, ws, _attrs(attributes), _admin), _now)
	not _denied_as_invalid(d)
}

_invalid_attribute_workspace("developer_workspace:delete") := "d1"

_invalid_attribute_workspace(action) := "t1" if action != "developer_workspace:delete"

_denied_as_invalid(d) if {
	d.allow == false
	"invalid_attribute" in {r.code | some r in d.reasons}
}

test_an_attribute_of_the_wrong_kind_denies if {
	_invalid_attribute_failures == set()
}

test_invalid_attribute_message if {
	_reasons_of("approval:approve", "t1", _attrs({"submitter": "", "state": "in_review"}), _admin) == {{
		"code": "invalid_attribute",
		"message": "resource.attributes.submitter must be a non-empty string, not \"\"",
	}}
	_reasons_of("miniprogram:take_offline", "t1", _attrs({"environment": "PRODUCTION"}), _admin) == {{
		"code": "invalid_attribute",
		"message": "resource.attributes.environment must be one of development, production, sandbox, test, not \"PRODUCTION\"",
	}}
}
