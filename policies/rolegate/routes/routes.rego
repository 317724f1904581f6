# METADATA
# title: Route table
# description: |
#   Maps the platform's HTTP API to operations, for gateways (Envoy ext_authz, nginx
#   auth_request, Traefik forwardAuth). rolegate reads this package once when it
#   compiles the policy, so matching a request costs no Rego evaluation.
#
#   routes maps "METHOD /path/template" to the operation of rolegate.model that the
#   request performs. A template is literal segments (lowercase, digits, hyphens) and
#   parameters in braces; a parameter matches one whole path segment. Parameters:
#     {workspace}: the workspace the resource lives in (resource.workspace); every
#                  route has it;
#     {id}:        the mini program id (resource.id); only right after "miniprograms";
#     {member}:    the user whose membership is acted on (the member attribute);
#     any other:   matched, not used ({version}, {release}, {request}, ...).
#   No two routes may match the same request. HEAD requests match GET routes.
#
#   gateway_checks maps an operation whose conditions need facts only the back end
#   has (who submitted a request, its state, a workspace's published mini programs) to
#   the operation a gateway asks about instead: one that every role granting the
#   first grants at least as widely. The back end still asks for the full operation,
#   with its attributes, through the decision API.
package rolegate.routes

routes := {
	# Workspaces: members see their own; a tenant's admins see and delete its merchants'.
	"GET /api/workspaces/{workspace}": "workspace:view",
	"PATCH /api/workspaces/{workspace}": "workspace:update",
	"GET /api/developer-workspaces/{workspace}": "developer_workspace:view",
	"DELETE /api/developer-workspaces/{workspace}": "developer_workspace:delete",
	# Members and invitations.
	"GET /api/workspaces/{workspace}/members": "member:list",
	"PUT /api/workspaces/{workspace}/members/{member}/role": "member:assign_role",
	"POST /api/workspaces/{workspace}/members/{member}/block": "member:block",
	"POST /api/workspaces/{workspace}/members/{member}/unblock": "member:unblock",
	"DELETE /api/workspaces/{workspace}/members/{member}": "member:remove",
	"POST /api/workspaces/{workspace}/invitations": "member:invite",
	"POST /api/workspaces/{workspace}/invitations/{member}/resend": "member:resend_invite",
	"DELETE /api/workspaces/{workspace}/invitations/{member}": "member:withdraw_invite",
	# Mini programs.
	"GET /api/workspaces/{workspace}/miniprograms": "miniprogram:list",
	"POST /api/workspaces/{workspace}/miniprograms": "miniprogram:create",
	"GET /api/workspaces/{workspace}/miniprograms/{id}": "miniprogram:view",
	"PATCH /api/workspaces/{workspace}/miniprograms/{id}": "miniprogram:update",
	"DELETE /api/workspaces/{workspace}/miniprograms/{id}": "miniprogram:delete",
	"POST /api/workspaces/{workspace}/miniprograms/{id}/take-offline": "miniprogram:take_offline",
	"POST /api/workspaces/{workspace}/miniprograms/{id}/force-remove": "miniprogram:force_remove",
	"POST /api/workspaces/{workspace}/miniprograms/{id}/warnings": "miniprogram:send_warning",
	"GET /api/workspaces/{workspace}/miniprograms/{id}/members": "miniprogram:view",
	"PUT /api/workspaces/{workspace}/miniprograms/{id}/members": "miniprogram.member:manage",
	"GET /api/workspaces/{workspace}/miniprograms/{id}/config": "miniprogram:view",
	"PATCH /api/workspaces/{workspace}/miniprograms/{id}/config": "miniprogram.config:edit",
	# Versions and releases of a mini program.
	"GET /api/workspaces/{workspace}/miniprograms/{id}/versions": "miniprogram:view",
	"POST /api/workspaces/{workspace}/miniprograms/{id}/versions": "miniprogram.version:upload",
	"PATCH /api/workspaces/{workspace}/miniprograms/{id}/versions/{version}": "miniprogram.version:manage",
	"DELETE /api/workspaces/{workspace}/miniprograms/{id}/versions/{version}": "miniprogram.version:manage",
	"GET /api/workspaces/{workspace}/miniprograms/{id}/releases": "miniprogram:view",
	"POST /api/workspaces/{workspace}/miniprograms/{id}/releases": "miniprogram.release:apply",
	"POST /api/workspaces/{workspace}/miniprograms/{id}/releases/{release}/withdraw": "miniprogram.release:withdraw",
	"POST /api/workspaces/{workspace}/miniprograms/{id}/releases/{release}/pilot-test": "miniprogram.release:pilot_test",
	"POST /api/workspaces/{workspace}/miniprograms/{id}/releases/{release}/grayscale": "miniprogram.release:grayscale",
	"POST /api/workspaces/{workspace}/miniprograms/{id}/releases/{release}/full-release": "miniprogram.release:full_release",
	"POST /api/workspaces/{workspace}/miniprograms/{id}/releases/{release}/cancel": "miniprogram.release:cancel",
	# Analytics and quality, for the workspace and for one mini program.
	"GET /api/workspaces/{workspace}/analytics/performance": "analytics:view_performance",
	"GET /api/workspaces/{workspace}/analytics/user-behavior": "analytics:view_user_behavior",
	"GET /api/workspaces/{workspace}/analytics/transactions": "analytics:view_transactions",
	"GET /api/workspaces/{workspace}/miniprograms/{id}/analytics/performance": "analytics:view_performance",
	"GET /api/workspaces/{workspace}/miniprograms/{id}/analytics/user-behavior": "analytics:view_user_behavior",
	"GET /api/workspaces/{workspace}/miniprograms/{id}/analytics/transactions": "analytics:view_transactions",
	"GET /api/workspaces/{workspace}/quality": "quality:view",
	"GET /api/workspaces/{workspace}/miniprograms/{id}/quality": "quality:view",
	# Platform features and JSAPIs.
	"GET /api/workspaces/{workspace}/features": "feature:view",
	"POST /api/workspaces/{workspace}/features": "feature:add",
	"GET /api/workspaces/{workspace}/features/{feature}": "feature:view",
	"PATCH /api/workspaces/{workspace}/features/{feature}": "feature:edit",
	"GET /api/workspaces/{workspace}/jsapis": "jsapi:view",
	"POST /api/workspaces/{workspace}/jsapis": "jsapi:add",
	"GET /api/workspaces/{workspace}/jsapis/{jsapi}": "jsapi:view",
	"PATCH /api/workspaces/{workspace}/jsapis/{jsapi}": "jsapi:edit",
	# Approvals (reviewing others' requests) and one's own requests.
	"GET /api/workspaces/{workspace}/approvals": "approval:list",
	"POST /api/workspaces/{workspace}/approvals/{request}/approve": "approval:approve",
	"POST /api/workspaces/{workspace}/approvals/{request}/reject": "approval:reject",
	"GET /api/workspaces/{workspace}/requests": "request:list_own",
	"POST /api/workspaces/{workspace}/requests": "request:submit",
	"POST /api/workspaces/{workspace}/requests/{request}/withdraw": "request:withdraw",
	# Marketing.
	"GET /api/workspaces/{workspace}/marketing/campaigns": "marketing.campaign:manage",
	"POST /api/workspaces/{workspace}/marketing/campaigns": "marketing.campaign:manage",
	"GET /api/workspaces/{workspace}/marketing/campaigns/{campaign}": "marketing.campaign:manage",
	"PATCH /api/workspaces/{workspace}/marketing/campaigns/{campaign}": "marketing.campaign:manage",
	"DELETE /api/workspaces/{workspace}/marketing/campaigns/{campaign}": "marketing.campaign:manage",
	"GET /api/workspaces/{workspace}/marketing/audiences": "marketing.audience:manage",
	"POST /api/workspaces/{workspace}/marketing/audiences": "marketing.audience:manage",
	"GET /api/workspaces/{workspace}/marketing/audiences/{audience}": "marketing.audience:manage",
	"PATCH /api/workspaces/{workspace}/marketing/audiences/{audience}": "marketing.audience:manage",
	"DELETE /api/workspaces/{workspace}/marketing/audiences/{audience}": "marketing.audience:manage",
	"GET /api/workspaces/{workspace}/marketing/deliveries": "marketing.delivery:manage",
	"POST /api/workspaces/{workspace}/marketing/deliveries": "marketing.delivery:manage",
	"GET /api/workspaces/{workspace}/marketing/deliveries/{delivery}": "marketing.delivery:manage",
	"PATCH /api/workspaces/{workspace}/marketing/deliveries/{delivery}": "marketing.delivery:manage",
	"DELETE /api/workspaces/{workspace}/marketing/deliveries/{delivery}": "marketing.delivery:manage",
	"GET /api/workspaces/{workspace}/marketing/templates": "marketing.template:view",
	"GET /api/workspaces/{workspace}/marketing/templates/{template}": "marketing.template:view",
	"POST /api/workspaces/{workspace}/marketing/templates": "marketing.template:manage",
	"PATCH /api/workspaces/{workspace}/marketing/templates/{template}": "marketing.template:manage",
	"DELETE /api/workspaces/{workspace}/marketing/templates/{template}": "marketing.template:manage",
	"GET /api/workspaces/{workspace}/marketing/feedback": "marketing.feedback:view",
	"GET /api/workspaces/{workspace}/marketing/feedback/{feedback}": "marketing.feedback:view",
	"POST /api/workspaces/{workspace}/marketing/feedback/{feedback}/responses": "marketing.feedback:respond",
	# Announcements to the tenant's merchants.
	"POST /api/workspaces/{workspace}/announcements": "announcement:publish",
}

gateway_checks := {
	# Separation of duties and the request's state are the back end's to check.
	"approval:approve": "approval:list",
	"approval:reject": "approval:list",
	# Own requests: the submitter and state are the back end's to check.
	"request:list_own": "request:submit",
	"request:withdraw": "request:submit",
	# Published mini programs and the last upload are the back end's to check.
	"developer_workspace:delete": "developer_workspace:view",
}
