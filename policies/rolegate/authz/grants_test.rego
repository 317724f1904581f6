# Tests of the grants
# Each scope a grant can have (workspace, assigned, merchants, own) and the granted
# reasons that explain an allow. The fixtures are in authz_test.rego.
package rolegate.authz_test

_tenant_developer := {"t1": _active("workspace_developer")}

_workspace_scope_cases := {
	"without a resource id": {
		"input": _input("miniprogram:create", "t1", {}, _tenant_developer),
		"want": _allowed,
	},
	"on an assigned mini program": {
		"input": _input("miniprogram:update", "t1", {"id": "mp1"}, _tenant_developer),
		"want": _allowed,
	},
	"on a mini program not assigned": {
		"input": _input("miniprogram:update", "t1", {"id": "mp9"}, _tenant_developer),
		"want": _allowed,
	},
	"developer admin on any mini program": {
		"input": _input("miniprogram:delete", "d1", {"id": "mp9"}, {"d1": _active("developer_admin")}),
		"want": _allowed,
	},
	"not in another tenant": {
		"input": _input("miniprogram:create", "t2", {}, _tenant_developer),
		"want": _denied({"no_membership"}),
	},
}

test_workspace_scope_allows_any_resource_of_the_own_workspace if {
	_failed(_workspace_scope_cases) == set()
}

_developer := {"d1": _active("developer")}

_assigned_scope_cases := {
	"assigned mini program": {
		"input": _input("miniprogram:update", "d1", {"id": "mp2"}, _developer),
		"want": _allowed,
	},
	"mini program not assigned": {
		"input": _input("miniprogram:update", "d1", {"id": "mp9"}, _developer),
		"want": _denied({"not_assigned"}),
	},
	"no resource id": {
		"input": _input("miniprogram:update", "d1", {}, _developer),
		"want": _denied({"resource_id_required"}),
	},
	"list without a resource id": {
		"input": _input("miniprogram:list", "d1", {}, _developer),
		"want": _allowed,
	},
	"list of an assigned mini program": {
		"input": _input("miniprogram:list", "d1", {"id": "mp1"}, _developer),
		"want": _allowed,
	},
	"list of a mini program not assigned": {
		"input": _input("miniprogram:list", "d1", {"id": "mp9"}, _developer),
		"want": _denied({"not_assigned"}),
	},
	"membership without assigned mini programs": {
		"input": _input("miniprogram:view", "d1", {"id": "mp1"}, {"d1": {"role": "developer", "status": "active"}}),
		"want": _denied({"not_assigned"}),
	},
	"tenant developer on analytics of an assigned mini program": {
		"input": _input("analytics:view_performance", "t1", {"id": "mp1"}, _tenant_developer),
		"want": _allowed,
	},
	"tenant reviewer without a resource id": {
		"input": _input("miniprogram:view", "t1", {}, {"t1": _active("workspace_reviewer")}),
		"want": _denied({"resource_id_required"}),
	},
}

test_assigned_scope_needs_an_assigned_mini_program if {
	_failed(_assigned_scope_cases) == set()
}

_admin := {"t1": _active("workspace_admin")}

_merchants_scope_cases := {
	"tenant's own workspace": {
		"input": _input("miniprogram:view", "t1", {"id": "mp9"}, _admin),
		"want": _allowed,
	},
	"a merchant of the tenant": {
		"input": _input("miniprogram:force_remove", "d1", {"id": "mp9"}, _admin),
		"want": _allowed,
	},
	"a merchant of another tenant": {
		"input": _input("miniprogram:view", "d2", {"id": "mp9"}, _admin),
		"want": _denied({"no_membership", "other_tenant"}),
	},
	"developer workspace of a merchant": {
		"input": _input("developer_workspace:view", "d1", {}, _admin),
		"want": _allowed,
	},
	"developer workspace operation on the tenant itself": {
		"input": _input("developer_workspace:view", "t1", {}, _admin),
		"want": _denied({"wrong_workspace_type"}),
	},
	"reviewer approves for a merchant": {
		"input": _input("approval:reject", "d1", _attrs({"submitter": "bob", "state": "in_review"}), {
			"t1": _active("workspace_reviewer"),
		}),
		"want": _allowed,
	},
	"operator answers a merchant's feedback": {
		"input": _input("marketing.feedback:respond", "d1", {}, {"t1": _active("workspace_operator")}),
		"want": _allowed,
	},
}

test_merchants_scope_reaches_only_the_tenants_own_merchants if {
	_failed(_merchants_scope_cases) == set()
}

_developer_admin := {"d1": _active("developer_admin")}

test_developer_roles_never_leave_their_workspace if {
	every ws in ["t1", "t2", "d2"] {
		every action in ["workspace:view", "miniprogram:view", "approval:list", "member:list"] {
			_outcome_is(_input(action, ws, {"id": "mp1"}, _developer_admin), _denied({"no_membership"}))
		}
	}
}

_own_scope_cases := {
	"withdraw a request of one's own": {
		"input": _input("request:withdraw", "t1", _attrs({"submitter": "alice", "state": "in_review"}), _admin),
		"want": _allowed,
	},
	"withdraw someone else's request": {
		"input": _input("request:withdraw", "t1", _attrs({"submitter": "bob", "state": "in_review"}), _admin),
		"want": _denied({"not_own_request"}),
	},
	"withdraw without a submitter": {
		"input": _input("request:withdraw", "t1", _attrs({"state": "in_review"}), _admin),
		"want": _denied({"missing_attribute"}),
	},
	"list one's own requests": {
		"input": _input("request:list_own", "d1", _attrs({"submitter": "alice"}), {"d1": _active("operator")}),
		"want": _allowed,
	},
	"list someone else's requests": {
		"input": _input("request:list_own", "d1", _attrs({"submitter": "bob"}), {"d1": _active("operator")}),
		"want": _denied({"not_own_request"}),
	},
	"own scope does not reach a merchant": {
		"input": _input("request:list_own", "d1", _attrs({"submitter": "alice"}), _admin),
		"want": _denied({"outside_scope"}),
	},
}

test_own_scope_allows_only_the_subjects_requests if {
	_failed(_own_scope_cases) == set()
}

test_granted_reason_names_role_workspace_and_operation if {
	d := _decide(_input("miniprogram:update", "d1", {"id": "mp1"}, _developer))
	d.reasons == {{"code": "granted", "message": "developer of d1 grants miniprogram:update"}}
}

test_granted_reason_from_the_tenant_names_the_merchant if {
	d := _decide(_input("approval:list", "d1", {}, {"t1": _active("workspace_reviewer")}))
	d.reasons == {{"code": "granted", "message": "workspace_reviewer of t1 grants approval:list in its merchant d1"}}
}
