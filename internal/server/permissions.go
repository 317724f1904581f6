package server

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
)

type permissionsResponse struct {
	Subject      string       `json:"subject"`
	Workspace    string       `json:"workspace"`
	ResourceID   string       `json:"resource_id,omitempty"`
	Allowed      []permission `json:"allowed"`
	Conditional  []permission `json:"conditional"`
	MiniPrograms []string     `json:"miniprograms"`
	Revision     revision     `json:"revision"`
}

type permission struct {
	Action  string          `json:"action"`
	Reasons []engine.Reason `json:"reasons"`
}

// permissionParams are the query parameters of GET /v1/permissions.
var permissionParams = map[string]bool{"subject": true, "workspace": true, "resource_id": true}

func (s *Server) permissions(c *ctx) error {
	params, err := strictQuery(c.Request.URL.RawQuery, permissionParams)
	if err != nil {
		return err
	}
	q := authz.Request{
		Subject:  params.Get("subject"),
		Action:   "workspace:view",
		Resource: authz.Resource{Workspace: params.Get("workspace"), ID: params.Get("resource_id")},
	}
	if err := q.Validate(); err != nil {
		return queryError(err)
	}

	ctx, cancel := s.requestContext(c)
	defer cancel()
	p, err := s.opts.Service.Permissions(ctx, q.Subject, q.Resource.Workspace, q.Resource.ID)
	if err != nil {
		return &apiError{
			Status: http.StatusServiceUnavailable, Code: authz.CodeMembershipUnavailable,
			Message: "permissions could not be computed", Err: err,
		}
	}

	s.writeJSON(c, http.StatusOK, permissionsResponse{
		Subject:      q.Subject,
		Workspace:    q.Resource.Workspace,
		ResourceID:   q.Resource.ID,
		Allowed:      permissionsOf(p.Allowed),
		Conditional:  permissionsOf(p.Conditional),
		MiniPrograms: nonNil(p.MiniPrograms),
		Revision:     revisionOf(p.PolicyRevision, p.MembershipRevision),
	})
	return nil
}

// strictQuery parses a query string as strictly as strictjson reads a body: a
// malformed one, a parameter the route does not know (names are case-sensitive) or
// one given twice is refused, as another reader of the URL could take it otherwise.
func strictQuery(raw string, known map[string]bool) (url.Values, error) {
	params, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequest("invalid_parameter", "the query string is malformed")
	}
	for _, name := range slices.Sorted(maps.Keys(params)) {
		switch {
		case !known[name]:
			return nil, badRequest("unknown_parameter", "unknown query parameter %q", name)
		case len(params[name]) > 1:
			return nil, badRequest("invalid_parameter", "query parameter %s is given more than once", name)
		}
	}
	return params, nil
}

// queryError names query parameters rather than body fields.
func queryError(err error) error {
	var fe *authz.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	names := map[string]string{"resource.workspace": "workspace", "resource.id": "resource_id"}
	param := fe.Field
	if n, ok := names[param]; ok {
		param = n
	}
	code := "invalid_parameter"
	if fe.Missing {
		code = "missing_parameter"
	}
	return badRequest(code, "query parameter %s %s", param, fe.Problem)
}

func permissionsOf(list []authz.Permission) []permission {
	out := make([]permission, len(list))
	for i, p := range list {
		out[i] = permission{Action: p.Action, Reasons: p.Reasons}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
