# METADATA
# title: Role model
# description: |
#   The one place where rolegate's operations and roles are declared.
#
#   operations maps every known operation ("resource:action") to the rules beyond
#   the role table that it must also pass:
#     conditions: names of checks in rolegate.authz (conditions.rego) that must hold;
#     lists:      an "assigned" grant allows the operation without resource.id, and the
#                 caller shows only the assigned items.
#
#   roles maps every role id to its title, the workspace type it belongs to and the
#   operations it grants, each with a scope:
#     workspace: any resource of the member's own workspace;
#     assigned:  only mini programs assigned to the member (resource.id);
#     merchants: the member's own workspace and every developer workspace whose
#                tenant it is;
#     own:       only requests whose submitter is the subject.
#   An operation a role does not list is denied to it.
#
#   To add a role, add an entry to roles. To add an operation, add it to operations
#   and grant it to roles here. Nothing else changes.
package rolegate.model

# workspace_types are the kinds of workspace a role can belong to.
workspace_types := {"tenant", "developer"}

# scopes are the scope names a grant may use.
scopes := {"workspace", "assigned", "merchants", "own"}

# conditions are the checks an operation may require (implemented in
# rolegate.authz, conditions.rego):
#   not_own_request:     the submitter is given and is not the subject;
#   in_review:           the request's state is in_review;
#   production_gate:     in production, approved is true;
#   developer_workspace: the workspace is a developer workspace;
#   deletable_workspace: no published mini programs and no upload in 30 days;
#   not_self:            the member changed is not the subject;
#   role_fits_workspace: the role given belongs to the workspace's type.
conditions := {
	"not_own_request",
	"in_review",
	"production_gate",
	"developer_workspace",
	"deletable_workspace",
	"not_self",
	"role_fits_workspace",
}

# attributes are the resource attributes the rules read, each with the kind of value
# it must hold. A stated attribute of another kind denies every operation
# (invalid_attribute), so a malformed fact never satisfies a rule by accident:
#   id:    a non-empty string (a user or a role id);
#   count: a whole number, zero or more;
#   time:  an RFC 3339 time;
#   flag:  true or false;
#   a set: one of its strings.
attributes := {
	"submitter": "id",
	"member": "id",
	"role": "id",
	"state": {"in_review", "approved", "rejected", "withdrawn"},
	"environment": {"development", "test", "sandbox", "production"},
	"approved": "flag",
	"published_miniprograms": "count",
	"last_upload_at": "time",
}

operations := {
	"miniprogram:view": {},
	"miniprogram:list": {"lists": true},
	"miniprogram:create": {},
	"miniprogram:update": {},
	"miniprogram:delete": {},
	"miniprogram:take_offline": {"conditions": ["production_gate"]},
	"miniprogram:force_remove": {},
	"miniprogram:send_warning": {},
	"miniprogram.member:manage": {},
	"miniprogram.config:edit": {},
	"miniprogram.version:upload": {},
	"miniprogram.version:manage": {},
	"miniprogram.release:apply": {},
	"miniprogram.release:withdraw": {},
	"miniprogram.release:pilot_test": {"conditions": ["production_gate"]},
	"miniprogram.release:grayscale": {"conditions": ["production_gate"]},
	"miniprogram.release:full_release": {"conditions": ["production_gate"]},
	"miniprogram.release:cancel": {},
	"feature:view": {},
	"feature:add": {},
	"feature:edit": {},
	"jsapi:view": {},
	"jsapi:add": {},
	"jsapi:edit": {},
	"analytics:view_performance": {},
	"analytics:view_user_behavior": {},
	"analytics:view_transactions": {},
	"quality:view": {},
	"workspace:view": {},
	"workspace:update": {},
	"developer_workspace:view": {"conditions": ["developer_workspace"]},
	"developer_workspace:delete": {"conditions": ["developer_workspace", "deletable_workspace"]},
	"member:list": {},
	"member:invite": {"conditions": ["role_fits_workspace"]},
	"member:resend_invite": {},
	"member:withdraw_invite": {},
	"member:assign_role": {"conditions": ["not_self", "role_fits_workspace"]},
	"member:block": {"conditions": ["not_self"]},
	"member:unblock": {"conditions": ["not_self"]},
	"member:remove": {"conditions": ["not_self"]},
	"approval:list": {},
	"approval:approve": {"conditions": ["not_own_request", "in_review"]},
	"approval:reject": {"conditions": ["not_own_request", "in_review"]},
	"request:submit": {},
	"request:list_own": {},
	"request:withdraw": {"conditions": ["in_review"]},
	"marketing.campaign:manage": {},
	"marketing.audience:manage": {},
	"marketing.delivery:manage": {},
	"marketing.template:view": {},
	"marketing.template:manage": {},
	"marketing.feedback:view": {},
	"marketing.feedback:respond": {},
	"announcement:publish": {},
}

# Cells in italics in the domain table (reasoned choices, not documented facts) are
# marked "choice" below.
roles := {
	"workspace_admin": {
		"title": "Workspace Admin",
		"workspace_type": "tenant",
		"grants": {
			"miniprogram:view": "merchants",
			"miniprogram:list": "merchants",
			"miniprogram:create": "workspace",
			"miniprogram:update": "workspace",
			"miniprogram:delete": "workspace",
			"miniprogram:take_offline": "workspace",
			"miniprogram:force_remove": "merchants",
			"miniprogram:send_warning": "merchants",
			"miniprogram.member:manage": "workspace",
			"miniprogram.config:edit": "workspace",
			"miniprogram.version:upload": "workspace",
			"miniprogram.version:manage": "workspace",
			"miniprogram.release:apply": "workspace",
			"miniprogram.release:withdraw": "workspace",
			"miniprogram.release:pilot_test": "workspace",
			"miniprogram.release:grayscale": "workspace",
			"miniprogram.release:full_release": "workspace",
			"miniprogram.release:cancel": "workspace",
			"feature:view": "workspace",
			"feature:add": "workspace",
			"feature:edit": "workspace",
			"jsapi:view": "workspace",
			"jsapi:add": "workspace",
			"jsapi:edit": "workspace",
			"analytics:view_performance": "merchants",
			"analytics:view_user_behavior": "merchants",
			"analytics:view_transactions": "merchants",
			"quality:view": "merchants",
			"workspace:view": "workspace",
			"workspace:update": "workspace",
			"developer_workspace:view": "merchants",
			"developer_workspace:delete": "merchants",
			"member:list": "workspace",
			"member:invite": "workspace",
			"member:resend_invite": "workspace",
			"member:withdraw_invite": "workspace",
			"member:assign_role": "workspace",
			"member:block": "workspace",
			"member:unblock": "workspace",
			"member:remove": "workspace",
			"approval:list": "merchants",
			"approval:approve": "merchants",
			"approval:reject": "merchants",
			"request:submit": "workspace",
			"request:list_own": "own",
			"request:withdraw": "own",
			"marketing.campaign:manage": "workspace",
			"marketing.audience:manage": "workspace",
			"marketing.delivery:manage": "workspace",
			"marketing.template:view": "workspace",
			"marketing.template:manage": "workspace",
			"marketing.feedback:view": "merchants",
			"marketing.feedback:respond": "merchants",
			"announcement:publish": "workspace",
		},
	},
	"workspace_reviewer": {
		"title": "Workspace Reviewer",
		"workspace_type": "tenant",
		"grants": {
			"miniprogram:view": "assigned",
			"workspace:view": "workspace",
			"member:list": "workspace", # choice
			"approval:list": "merchants",
			"approval:approve": "merchants",
			"approval:reject": "merchants",
			"request:submit": "workspace",
			"request:list_own": "own",
			"request:withdraw": "own",
		},
	},
	"workspace_developer": {
		"title": "Workspace Developer",
		"workspace_type": "tenant",
		"grants": {
			"miniprogram:view": "assigned",
			"miniprogram:list": "workspace",
			"miniprogram:create": "workspace",
			"miniprogram:update": "workspace",
			"miniprogram:delete": "workspace",
			"miniprogram:take_offline": "workspace",
			"miniprogram.config:edit": "workspace",
			"miniprogram.version:upload": "workspace",
			"miniprogram.version:manage": "workspace",
			"miniprogram.release:apply": "workspace",
			"miniprogram.release:withdraw": "workspace",
			"miniprogram.release:pilot_test": "workspace",
			"miniprogram.release:grayscale": "workspace",
			"miniprogram.release:full_release": "workspace",
			"miniprogram.release:cancel": "workspace",
			"feature:view": "workspace",
			"feature:add": "workspace",
			"feature:edit": "workspace",
			"jsapi:view": "workspace",
			"jsapi:add": "workspace",
			"jsapi:edit": "workspace",
			"analytics:view_performance": "assigned", # choice
			"analytics:view_user_behavior": "assigned", # choice
			"quality:view": "assigned", # choice
			"workspace:view": "workspace",
			"member:list": "workspace", # choice
			"request:submit": "workspace",
			"request:list_own": "own",
			"request:withdraw": "own",
			"marketing.template:view": "workspace",
		},
	},
	"workspace_operator": {
		"title": "Workspace Operator",
		"workspace_type": "tenant",
		"grants": {
			"miniprogram:view": "assigned",
			"analytics:view_user_behavior": "workspace", # choice
			"analytics:view_transactions": "workspace", # choice
			"workspace:view": "workspace",
			"member:list": "workspace", # choice
			"request:submit": "workspace",
			"request:list_own": "own",
			"request:withdraw": "own",
			"marketing.campaign:manage": "workspace",
			"marketing.audience:manage": "workspace",
			"marketing.delivery:manage": "workspace",
			"marketing.template:view": "workspace",
			"marketing.template:manage": "workspace",
			"marketing.feedback:view": "merchants",
			"marketing.feedback:respond": "merchants",
		},
	},
	"developer_admin": {
		"title": "Developer Admin",
		"workspace_type": "developer",
		"grants": {
			"miniprogram:view": "workspace",
			"miniprogram:list": "workspace",
			"miniprogram:create": "workspace",
			"miniprogram:update": "workspace",
			"miniprogram:delete": "workspace",
			"miniprogram:take_offline": "workspace",
			"miniprogram.member:manage": "workspace",
			"miniprogram.config:edit": "workspace",
			"miniprogram.version:upload": "workspace",
			"miniprogram.version:manage": "workspace",
			"miniprogram.release:apply": "workspace",
			"miniprogram.release:withdraw": "workspace",
			"miniprogram.release:pilot_test": "workspace",
			"miniprogram.release:grayscale": "workspace",
			"miniprogram.release:full_release": "workspace",
			"miniprogram.release:cancel": "workspace",
			"feature:view": "workspace",
			"feature:add": "workspace",
			"feature:edit": "workspace",
			"jsapi:view": "workspace",
			"jsapi:add": "workspace",
			"jsapi:edit": "workspace",
			"analytics:view_performance": "workspace",
			"analytics:view_user_behavior": "workspace",
			"analytics:view_transactions": "workspace",
			"quality:view": "workspace", # choice
			"workspace:view": "workspace",
			"workspace:update": "workspace",
			"member:list": "workspace",
			"member:invite": "workspace",
			"member:resend_invite": "workspace",
			"member:withdraw_invite": "workspace",
			"member:assign_role": "workspace",
			"member:block": "workspace",
			"member:unblock": "workspace",
			"member:remove": "workspace",
			"request:submit": "workspace",
			"request:list_own": "own",
			"request:withdraw": "own",
			"marketing.campaign:manage": "workspace",
			"marketing.audience:manage": "workspace",
			"marketing.delivery:manage": "workspace",
			"marketing.template:view": "workspace",
		},
	},
	"developer": {
		"title": "Developer",
		"workspace_type": "developer",
		"grants": {
			"miniprogram:view": "assigned",
			"miniprogram:list": "assigned",
			"miniprogram:update": "assigned",
			"miniprogram:delete": "assigned",
			"miniprogram:take_offline": "assigned",
			"miniprogram.config:edit": "assigned",
			"miniprogram.version:upload": "assigned",
			"miniprogram.version:manage": "assigned",
			"miniprogram.release:apply": "assigned",
			"miniprogram.release:withdraw": "assigned",
			"miniprogram.release:pilot_test": "assigned",
			"miniprogram.release:grayscale": "assigned",
			"miniprogram.release:full_release": "assigned",
			"miniprogram.release:cancel": "assigned",
			"analytics:view_performance": "assigned",
			"analytics:view_user_behavior": "assigned",
			"quality:view": "assigned", # choice
			"workspace:view": "workspace",
			"member:list": "workspace", # choice
			"request:submit": "workspace",
			"request:list_own": "own",
			"request:withdraw": "own",
			"marketing.template:view": "workspace",
		},
	},
	"operator": {
		"title": "Operator",
		"workspace_type": "developer",
		"grants": {
			"miniprogram:view": "assigned",
			"analytics:view_user_behavior": "workspace",
			"analytics:view_transactions": "workspace",
			"workspace:view": "workspace",
			"member:list": "workspace", # choice
			"request:submit": "workspace",
			"request:list_own": "own",
			"request:withdraw": "own",
			"marketing.campaign:manage": "workspace",
			"marketing.audience:manage": "workspace",
			"marketing.delivery:manage": "workspace",
			"marketing.template:view": "workspace",
		},
	},
}
