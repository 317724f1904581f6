package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
)

// AuthZEN (OpenID AuthZEN Authorization API 1.0) types. A resource of type
// "workspace" is the workspace itself (its id is the workspace id); any other resource
// lives in the workspace named by properties.workspace, and its id is the mini program
// id. The other resource properties are the policy's resource attributes.
type (
	azEntity struct {
		Type       string         `json:"type"`
		ID         string         `json:"id"`
		Properties map[string]any `json:"properties,omitempty"`
	}
	azAction struct {
		Name       string         `json:"name"`
		Properties map[string]any `json:"properties,omitempty"`
	}
	azEvaluation struct {
		Subject  *azEntity      `json:"subject,omitempty"`
		Action   *azAction      `json:"action,omitempty"`
		Resource *azEntity      `json:"resource,omitempty"`
		Context  map[string]any `json:"context,omitempty"`
	}
	azEvaluations struct {
		azEvaluation `json:",inline"`
		Evaluations  []azEvaluation `json:"evaluations,omitempty"`
		Options      *struct {
			Semantic string `json:"evaluations_semantic"`
		} `json:"options,omitempty"`
	}
	azDecision struct {
		Decision bool      `json:"decision"`
		Context  azContext `json:"context"`
	}
	azContext struct {
		DecisionID string          `json:"decision_id"`
		Reasons    []engine.Reason `json:"reasons"`
		Revision   revision        `json:"revision"`
	}
	azDecisions struct {
		Evaluations []azDecision `json:"evaluations"`
	}
)

// Evaluation semantics of POST /access/v1/evaluations.
const (
	semanticExecuteAll       = "execute_all"
	semanticDenyOnFirstDeny  = "deny_on_first_deny"
	semanticPermitOnFirstPer = "permit_on_first_permit"
)

func (s *Server) authzenEvaluation(c *ctx) error {
	var ev azEvaluation
	if err := s.readJSON(c, &ev); err != nil {
		return err
	}
	return s.answerSingle(c, &ev)
}

func (s *Server) authzenEvaluations(c *ctx) error {
	var body azEvaluations
	if err := s.readJSON(c, &body); err != nil {
		return err
	}
	if len(body.Evaluations) == 0 {
		// Without evaluations the request is a single evaluation (AuthZEN 1.0, 7.1).
		return s.answerSingle(c, &body.azEvaluation)
	}
	reqs, semantic, err := s.evaluationsOf(&body)
	if err != nil {
		return err
	}

	ctx, cancel := s.requestContext(c)
	defer cancel()
	out := azDecisions{Evaluations: make([]azDecision, 0, len(reqs))}
	for _, req := range reqs {
		d := s.opts.Service.Decide(ctx, req)
		out.Evaluations = append(out.Evaluations, azDecisionOf(&d))
		if (semantic == semanticDenyOnFirstDeny && !d.Allow) || (semantic == semanticPermitOnFirstPer && d.Allow) {
			break
		}
	}

	echoRequestID(c)
	s.writeJSON(c, http.StatusOK, out)
	return nil
}

func (s *Server) answerSingle(c *ctx, ev *azEvaluation) error {
	req, err := ev.request()
	if err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	d := s.opts.Service.Decide(ctx, req)
	echoRequestID(c)
	s.writeJSON(c, http.StatusOK, azDecisionOf(&d))
	return nil
}

// evaluationsOf resolves each evaluation against the request's defaults.
func (s *Server) evaluationsOf(body *azEvaluations) ([]*authz.Request, string, error) {
	semantic := semanticExecuteAll
	if body.Options != nil && body.Options.Semantic != "" {
		semantic = body.Options.Semantic
	}
	switch semantic {
	case semanticExecuteAll, semanticDenyOnFirstDeny, semanticPermitOnFirstPer:
	default:
		return nil, "", badRequest("invalid_field", "options.evaluations_semantic %q is not known", semantic)
	}
	if len(body.Evaluations) > s.opts.Limits.MaxBatch {
		return nil, "", badRequest("batch_too_large", "at most %d evaluations, got %d",
			s.opts.Limits.MaxBatch, len(body.Evaluations))
	}
	reqs := make([]*authz.Request, len(body.Evaluations))
	for i, ev := range body.Evaluations {
		merged := ev.withDefaults(&body.azEvaluation)
		req, err := merged.request()
		if err != nil {
			ae := asAPIError(err)
			ae.Message = fmt.Sprintf("evaluations[%d]: %s", i, ae.Message)
			return nil, "", ae
		}
		reqs[i] = req
	}
	return reqs, semantic, nil
}

func (ev azEvaluation) withDefaults(d *azEvaluation) azEvaluation {
	if ev.Subject == nil {
		ev.Subject = d.Subject
	}
	if ev.Action == nil {
		ev.Action = d.Action
	}
	if ev.Resource == nil {
		ev.Resource = d.Resource
	}
	if ev.Context == nil {
		ev.Context = d.Context
	}
	return ev
}

// request maps an AuthZEN evaluation onto rolegate's request.
func (ev *azEvaluation) request() (*authz.Request, error) {
	switch {
	case ev.Subject == nil || ev.Subject.ID == "":
		return nil, badRequest("missing_field", "subject.id is required")
	case ev.Action == nil || ev.Action.Name == "":
		return nil, badRequest("missing_field", "action.name is required")
	case ev.Resource == nil:
		return nil, badRequest("missing_field", "resource is required")
	}
	req := &authz.Request{Subject: ev.Subject.ID, Action: ev.Action.Name}
	attrs := make(map[string]any, len(ev.Resource.Properties))
	for k, v := range ev.Resource.Properties {
		attrs[k] = v
	}
	if strings.EqualFold(ev.Resource.Type, "workspace") {
		req.Resource.Workspace = ev.Resource.ID
	} else {
		ws, ok := attrs["workspace"].(string)
		if !ok || ws == "" {
			return nil, badRequest("missing_field", "resource.properties.workspace is required")
		}
		req.Resource.Workspace, req.Resource.ID = ws, ev.Resource.ID
	}
	delete(attrs, "workspace")
	if len(attrs) > 0 {
		req.Resource.Attributes = attrs
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return req, nil
}

func azDecisionOf(d *authz.Decision) azDecision {
	return azDecision{Decision: d.Allow, Context: azContext{
		DecisionID: d.ID,
		Reasons:    d.Reasons,
		Revision:   revisionOf(d.PolicyRevision, d.MembershipRevision),
	}}
}

// echoRequestID returns the caller's X-Request-ID, as AuthZEN asks.
func echoRequestID(c *ctx) {
	if id := c.GetHeader("X-Request-ID"); id != "" && len(id) <= 256 {
		c.Header("X-Request-ID", id)
	}
}

type azConfiguration struct {
	PDP                       string `json:"policy_decision_point"`
	AccessEvaluationEndpoint  string `json:"access_evaluation_endpoint"`
	AccessEvaluationsEndpoint string `json:"access_evaluations_endpoint"`
}

// authzenConfiguration is the PDP metadata; its URLs are built from the request's own
// host, as the service knows no public URL of itself.
func (s *Server) authzenConfiguration(c *ctx) error {
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + c.Request.Host
	s.writeJSON(c, http.StatusOK, azConfiguration{
		PDP:                       base,
		AccessEvaluationEndpoint:  base + "/access/v1/evaluation",
		AccessEvaluationsEndpoint: base + "/access/v1/evaluations",
	})
	return nil
}
