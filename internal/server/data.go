package server

import (
	"net/http"
	"strings"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
)

// The policy's published decision rules, as data paths, and the part of a decision
// each one returns. No other path is served: the query is never built from the
// request's text.
var publishedRules = map[string]func(d *authz.Decision) any{
	"rolegate/authz/decision": func(d *authz.Decision) any {
		return struct {
			Allow   bool            `json:"allow"`
			Reasons []engine.Reason `json:"reasons"`
		}{d.Allow, d.Reasons}
	},
	"rolegate/authz/allow":   func(d *authz.Decision) any { return d.Allow },
	"rolegate/authz/reasons": func(d *authz.Decision) any { return d.Reasons },
}

// dataRequest is OPA's data API request body; input is rolegate's request.
type dataRequest struct {
	Input *authz.Request `json:"input"`
}

type dataResponse struct {
	Result     any    `json:"result"`
	DecisionID string `json:"decision_id"`
}

// data serves POST /v1/data/<rule> for clients of OPA's REST API.
func (s *Server) data(c *ctx) error {
	path := strings.Trim(c.Param("path"), "/")
	project, ok := publishedRules[path]
	if !ok {
		return &apiError{
			Status: http.StatusNotFound, Code: "not_found",
			Message: "no published decision rule at /v1/data/" + path,
		}
	}
	var body dataRequest
	if err := s.readJSON(c, &body); err != nil {
		return err
	}
	if body.Input == nil {
		return badRequest("missing_field", "input is required")
	}
	if err := body.Input.Validate(); err != nil {
		return err
	}

	ctx, cancel := s.requestContext(c)
	defer cancel()
	d := s.opts.Service.Decide(ctx, body.Input)

	s.writeJSON(c, http.StatusOK, dataResponse{Result: project(&d), DecisionID: d.ID})
	return nil
}
