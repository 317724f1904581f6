# METADATA
# title: Authorization decision
# description: |
#   Decides whether a subject may perform an operation on a resource of a mini program
#   platform workspace. Query decision (or allow and reasons on their own).
#
#   Input:
#     subject:  user id of the caller's subject.
#     action:   the operation, "resource:action" as listed in rolegate.model.operations.
#     resource: workspace (id, required), id (mini program id, optional) and attributes
#               (optional: submitter, state, environment, approved,
#               published_miniprograms, last_upload_at, member, role).
#     facts:    supplied by the service, never by its caller:
#               workspace:   the resource's workspace, {type, tenant}; absent when unknown;
#               memberships: the subject's memberships by workspace id,
#                            {role, status, miniprograms}.
#   Without input.facts the same facts are read from data.memberships
#   (workspaces[id] and users[subject][workspace]), the layout a plain OPA server uses.
#
#   Output: decision is {"allow": bool, "reasons": [{"code", "message"}]}. When allowed,
#   the reasons name each membership that grants the operation; when denied, every rule
#   and missing fact that stood in the way.
# entrypoint: true
package rolegate.authz

import data.rolegate.model

# METADATA
# description: The whole answer, allow and its reasons, in one document.
decision := {"allow": allow, "reasons": reasons}

# METADATA
# description: True when a membership grants the operation and no rule forbids it.
default allow := false

allow if {
	count(_grants) > 0
	count(_denials) == 0
}

# METADATA
# description: Why the decision came out as it did; never empty.
reasons := _grants if {
	allow
} else := {_unknown_operation} if {
	not _operation
} else := {_unknown_workspace} if {
	not _workspace
} else := _explanations if {
	count(_explanations) > 0
} else := {_reason("not_granted", "no membership grants the operation")}

_explanations := _denials | _refusals

_operation := model.operations[input.action]

_workspace := input.facts.workspace if input.facts

_workspace := data.memberships.workspaces[input.resource.workspace] if not input.facts

_memberships := input.facts.memberships if input.facts

_memberships := data.memberships.users[input.subject] if not input.facts

_attributes := object.get(input.resource, "attributes", {})

_reason(code, message) := {"code": code, "message": message}

_unknown_operation := _reason(
	"unknown_operation",
	sprintf("operation %q is not known", [object.get(input, "action", "")]),
)

_unknown_workspace := _reason(
	"unknown_workspace",
	sprintf("workspace %q is not known", [object.get(input, ["resource", "workspace"], "")]),
)

# A blocked or invited membership in the resource's workspace denies everything there,
# including what a tenant role would reach into it.
_denials contains _reason("member_blocked", msg) if {
	_home.status == "blocked"
	msg := sprintf("%s is blocked in %s", [input.subject, input.resource.workspace])
}

_denials contains _reason("member_invited", msg) if {
	_home.status == "invited"
	msg := sprintf("%s is invited to %s and has not accepted", [input.subject, input.resource.workspace])
}
