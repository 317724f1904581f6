# Tests of the refusals
# Why a membership does not grant an operation: the reason codes and, for each, the
# message. The fixtures are in authz_test.rego.
package rolegate.authz_test

_refusal_cases := {
	"no membership at all": {
		"input": _input("workspace:view", "t1", {}, {}),
		"want": _denied({"no_membership"}),
	},
	"membership only elsewhere": {
		"input": _input("workspace:view", "t1", {}, {"d1": _active("developer_admin")}),
		"want": _denied({"no_membership"}),
	},
	"operation the role lacks": {
		"input": _input("miniprogram:create", "t1", {}, {"t1": _active("workspace_operator")}),
		"want": _denied({"operation_not_granted"}),
	},
	"operation the tenant role lacks in a merchant": {
		"input": _input("miniprogram:create", "d1", {}, {"t1": _active("workspace_operator")}),
		"want": _denied({"operation_not_granted"}),
	},
	"unknown role": {
		"input": _input("workspace:view", "t1", {}, {"t1": _active("superuser")}),
		"want": _denied({"operation_not_granted"}),
	},
	"developer role held in a tenant workspace": {
		"input": _input("workspace:view", "t1", {}, {"t1": _active("developer")}),
		"want": _denied({"role_workspace_mismatch"}),
	},
	"developer role held in a tenant workspace, operation it lacks": {
		"input": _input("approval:list", "t1", {}, {"t1": _active("developer")}),
		"want": _denied({"operation_not_granted", "role_workspace_mismatch"}),
	},
	"tenant role held in a developer workspace": {
		"input": _input("miniprogram:view", "d1", {"id": "mp1"}, {"d1": _active("workspace_admin")}),
		"want": _denied({"role_workspace_mismatch"}),
	},
	"workspace-only grant of the tenant in a merchant": {
		"input": _input("miniprogram:create", "d1", {}, {"t1": _active("workspace_admin")}),
		"want": _denied({"outside_scope"}),
	},
	"assigned grant of the tenant in a merchant": {
		"input": _input("miniprogram:view", "d1", {"id": "mp1"}, {"t1": _active("workspace_reviewer")}),
		"want": _denied({"outside_scope"}),
	},
	"merchants grant of another tenant": {
		"input": _input("approval:list", "d1", {}, {"t2": _active("workspace_reviewer")}),
		"want": _denied({"no_membership", "other_tenant"}),
	},
	"workspace-only grant of another tenant": {
		"input": _input("miniprogram:create", "d1", {}, {"t2": _active("workspace_admin")}),
		"want": _denied({"no_membership"}),
	},
	"merchants grant of another tenant, blocked there": {
		"input": _input("miniprogram:view", "d1", {}, {"t2": _member("workspace_admin", "blocked")}),
		"want": _denied({"no_membership"}),
	},
	"merchants grant of another tenant on a tenant workspace": {
		"input": _input("miniprogram:view", "t1", {}, {"t2": _active("workspace_admin")}),
		"want": _denied({"no_membership"}),
	},
	"blocked in the tenant of a merchant": {
		"input": _input("miniprogram:view", "d1", {}, {"t1": _member("workspace_admin", "blocked")}),
		"want": _denied({"member_blocked"}),
	},
	"invited to the tenant of a merchant": {
		"input": _input("miniprogram:view", "d1", {}, {"t1": _member("workspace_admin", "invited")}),
		"want": _denied({"member_invited"}),
	},
	"each membership explains its own refusal": {
		"input": _input("miniprogram:create", "d1", {}, {
			"t1": _active("workspace_operator"),
			"d1": _member("developer_admin", "invited"),
		}),
		"want": _denied({"member_invited", "operation_not_granted"}),
	},
	"denials and refusals are reported together": {
		"input": _input("request:withdraw", "d1", _attrs({"submitter": "bob", "state": "approved"}), _developer),
		"want": _denied({"not_own_request", "request_not_in_review"}),
	},
}

test_refusals_explain_each_denial if {
	_failed(_refusal_cases) == set()
}

# _reasons_of is the set of reasons alice is denied action on ws with extra and memberships.
_reasons_of(action, ws, extra, memberships) := d.reasons if {
	d := _decide(_input(action, ws, extra, memberships))
	d.allow == false
}

test_no_membership_message_names_the_workspace if {
	_reasons_of("workspace:view", "t1", {}, {}) == {{
		"code": "no_membership",
		"message": "alice has no membership in t1",
	}}
}

test_no_membership_message_of_a_developer_workspace_names_its_tenant if {
	_reasons_of("workspace:view", "d1", {}, {}) == {{
		"code": "no_membership",
		"message": "alice has no membership in d1 or in its tenant t1",
	}}
}

test_other_tenant_message_names_both_tenants if {
	_reasons_of("approval:list", "d1", {}, {"t2": _active("workspace_admin")}) == {
		{"code": "no_membership", "message": "alice has no membership in d1 or in its tenant t1"},
		{
			"code": "other_tenant",
			"message": "workspace_admin of t2 reaches only the merchants of t2, and d1 belongs to t1",
		},
	}
}

test_membership_status_messages_name_the_workspace if {
	_reasons_of("miniprogram:view", "d1", {}, {"t1": _member("workspace_admin", "blocked")}) == {{
		"code": "member_blocked",
		"message": "alice is blocked in t1",
	}}
	_reasons_of("miniprogram:view", "d1", {}, {"t1": _member("workspace_admin", "invited")}) == {{
		"code": "member_invited",
		"message": "alice is invited to t1 and has not accepted",
	}}
}

test_operation_not_granted_message_names_role_and_workspace if {
	_reasons_of("miniprogram:create", "t1", {}, {"t1": _active("workspace_operator")}) == {{
		"code": "operation_not_granted",
		"message": "workspace_operator of t1 does not grant miniprogram:create",
	}}
}

test_role_workspace_mismatch_message_names_role_and_type if {
	_reasons_of("workspace:view", "d1", {}, {"d1": _active("workspace_admin")}) == {{
		"code": "role_workspace_mismatch",
		"message": "role workspace_admin does not belong in developer workspace d1",
	}}
}

test_outside_scope_message_names_tenant_and_merchant if {
	_reasons_of("miniprogram:create", "d1", {}, {"t1": _active("workspace_admin")}) == {{
		"code": "outside_scope",
		"message": "workspace_admin of t1 grants miniprogram:create only in t1, not in its merchant d1",
	}}
}

test_assigned_scope_messages_name_the_mini_program if {
	_reasons_of("miniprogram:update", "d1", {}, _developer) == {{
		"code": "resource_id_required",
		"message": concat(" ", [
			"developer of d1 grants miniprogram:update only on assigned mini programs,",
			"and resource.id is missing",
		]),
	}}
	_reasons_of("miniprogram:update", "d1", {"id": "mp9"}, _developer) == {{
		"code": "not_assigned",
		"message": "mp9 is not assigned to alice as developer of d1",
	}}
}

test_own_scope_messages_name_the_submitter if {
	_reasons_of("request:list_own", "d1", _attrs({"submitter": "bob"}), _developer) == {{
		"code": "not_own_request",
		"message": concat(" ", [
			"developer of d1 grants request:list_own only on the subject's own requests,",
			"and bob submitted this one",
		]),
	}}
	_reasons_of("request:list_own", "d1", {}, _developer) == {{
		"code": "missing_attribute",
		"message": "request:list_own needs resource.attributes.submitter",
	}}
}

test_developer_role_in_the_tenant_is_explained_in_a_merchant if {
	d := _decide(_input("workspace:view", "d1", {}, {"t1": _active("developer")}))
	d.allow == false
	d.reasons == {{
		"code": "role_workspace_mismatch",
		"message": "role developer does not belong in tenant workspace t1",
	}}
}
