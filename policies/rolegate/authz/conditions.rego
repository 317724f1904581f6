# Conditions beyond the role table
# Checks that an operation must pass whatever role grants it. Each operation lists its
# conditions by name in rolegate.model.operations; a failed condition denies.
package rolegate.authz

import data.rolegate.model

_conditions := object.get(_operation, "conditions", [])

# Each condition's violations are rules under its own name, so a decision evaluates
# only the conditions its operation lists.
_denials contains reason if {
	some name in _conditions
	some reason in _violation[name]
}

# A stated attribute of the wrong kind denies, whatever the operation.
_denials contains _reason("invalid_attribute", msg) if {
	some name, value in _attributes
	kind := model.attributes[name]
	not _valid_attribute(kind, value)
	msg := sprintf("resource.attributes.%s must be %s, not %s", [name, _kind_text(kind), json.marshal(value)])
}

_valid_attribute("id", value) if {
	is_string(value)
	value != ""
}

_valid_attribute("count", value) if {
	is_number(value)
	value >= 0
	floor(value) == value
}

_valid_attribute("time", value) if {
	is_string(value)
	time.parse_rfc3339_ns(value)
}

_valid_attribute("flag", value) if is_boolean(value)

_valid_attribute(kind, value) if {
	is_set(kind)
	value in kind
}

_kind_text("id") := "a non-empty string"

_kind_text("count") := "a whole number, zero or more"

_kind_text("time") := "an RFC 3339 time"

_kind_text("flag") := "true or false"

_kind_text(kind) := sprintf("one of %s", [concat(", ", sort(kind))]) if is_set(kind)

# Separation of duties: nobody approves or rejects a request they submitted.
_violation.not_own_request contains _missing_attribute("submitter") if {
	not "submitter" in object.keys(_attributes)
}

_violation.not_own_request contains _reason("own_request", msg) if {
	_attributes.submitter == input.subject
	msg := sprintf("%s submitted this request and may not approve or reject it (%s)", [input.subject, input.action])
}

# Only requests in review can be approved, rejected or withdrawn.
_violation.in_review contains _missing_attribute("state") if {
	not "state" in object.keys(_attributes)
}

_violation.in_review contains _reason("request_not_in_review", msg) if {
	_attributes.state != "in_review"
	msg := sprintf("%s needs a request in review, and this one is %v", [input.action, _attributes.state])
}

# The production gate: releasing or taking offline in production needs an approval.
_violation.production_gate contains _reason("approval_required", msg) if {
	_attributes.environment == "production"
	object.get(_attributes, "approved", false) != true
	msg := sprintf("%s in production needs an approved request", [input.action])
}

# developer_workspace operations act on developer workspaces, never on the tenant's own.
_violation.developer_workspace contains _reason("wrong_workspace_type", msg) if {
	_workspace.type != "developer"
	msg := sprintf(
		"%s applies to developer workspaces, and %s is a %s workspace",
		[input.action, input.resource.workspace, _workspace.type],
	)
}

# A developer workspace can be deleted only with nothing published and no recent upload.
_violation.deletable_workspace contains _missing_attribute("published_miniprograms") if {
	not "published_miniprograms" in object.keys(_attributes)
}

_violation.deletable_workspace contains _reason("has_published_miniprograms", msg) if {
	published := _attributes.published_miniprograms
	is_number(published)
	published != 0
	msg := sprintf("%s has %v published mini programs; it must have none", [input.resource.workspace, published])
}

_violation.deletable_workspace contains _reason("recent_upload", msg) if {
	time.add_date(_last_upload_ns, 0, 0, 30) > time.now_ns()
	msg := sprintf(
		"%s had an upload at %s, less than 30 days ago",
		[input.resource.workspace, _attributes.last_upload_at],
	)
}

_last_upload_ns := time.parse_rfc3339_ns(_attributes.last_upload_at)

# Nobody changes, blocks or removes their own membership.
_violation.not_self contains _reason("self_membership_change", msg) if {
	_attributes.member == input.subject
	msg := sprintf("%s may not change their own membership (%s)", [input.subject, input.action])
}

# A role can only be given in its own workspace type.
_violation.role_fits_workspace contains _reason("role_workspace_mismatch", msg) if {
	_attributes.role
	not model.roles[_attributes.role].workspace_type == _workspace.type
	msg := sprintf(
		"role %v cannot be given in %s workspace %s",
		[_attributes.role, _workspace.type, input.resource.workspace],
	)
}
