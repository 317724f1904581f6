package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/strictjson"
)

// AuthZEN (OpenID AuthZEN Authorization API 1.0) types. A resource of type
// "workspace" is the workspace itself (its id is the workspace id); any other resource
// lives in the workspace named by properties.workspace, and its id is the mini program
// id. The other resource properties are the policy's resource attributes. The
// subject's and the action's properties and the context are not used: they are read
// as JSON of at most maxIgnoredTokens tokens and dropped.
type (
	azSubject struct {
		Type       string    `json:"type"`
		ID         string    `json:"id"`
		Properties azIgnored `json:"properties"`
	}
	azResource struct {
		Type       string       `json:"type"`
		ID         string       `json:"id"`
		Properties azProperties `json:"properties,omitempty"`
	}
	azAction struct {
		Name       string    `json:"name"`
		Properties azIgnored `json:"properties"`
	}
	azEvaluation struct {
		Subject  *azSubject  `json:"subject,omitempty"`
		Action   *azAction   `json:"action,omitempty"`
		Resource *azResource `json:"resource,omitempty"`
		Context  azIgnored   `json:"context"`
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
	// azContext explains a decision; an evaluation of a batch that could not be made
	// has only its Error, as AuthZEN 1.0 puts errors of one evaluation.
	azContext struct {
		DecisionID string          `json:"decision_id,omitempty"`
		Reasons    []engine.Reason `json:"reasons,omitempty"`
		Revision   revision        `json:"revision,omitzero"`
		Error      *azError        `json:"error,omitempty"`
	}
	azError struct {
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
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
	items, semantic, err := s.evaluationsOf(&body)
	if err != nil {
		return err
	}

	ctx, cancel := s.requestContext(c)
	defer cancel()
	out := azDecisions{Evaluations: make([]azDecision, 0, len(items))}
	for _, it := range items {
		answer := it.refused
		if it.req != nil {
			d := s.opts.Service.Decide(ctx, it.req)
			answer = azDecisionOf(&d)
		}
		out.Evaluations = append(out.Evaluations, answer)
		if (semantic == semanticDenyOnFirstDeny && !answer.Decision) ||
			(semantic == semanticPermitOnFirstPer && answer.Decision) {
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

// azProperties are a resource's properties: its workspace and its attributes, read
// as strictly as attributes are.
type azProperties map[string]any

// UnmarshalJSONFrom reads the properties; see authz.DecodeScalars.
func (p *azProperties) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	m, err := authz.DecodeScalars(dec, "properties", authz.MaxAttributes+1)
	*p = m
	return err
}

// azIgnored is a member rolegate does not use: it is read as JSON, never decoded,
// and refused past maxIgnoredTokens, so that it costs little whatever its size.
type azIgnored struct{}

// maxIgnoredTokens bounds the JSON tokens (names and values) of an ignored member.
const maxIgnoredTokens = 1000

// UnmarshalJSONFrom reads the value token by token and drops it.
func (*azIgnored) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	depth := dec.StackDepth()
	for range maxIgnoredTokens {
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		if dec.StackDepth() == depth {
			return nil
		}
	}
	return strictjson.Problem(fmt.Sprintf("holds more than %d tokens; rolegate does not use it", maxIgnoredTokens))
}

// azItem is one evaluation of a batch: the request to decide, or the answer that
// refuses it because it is not a valid evaluation.
type azItem struct {
	req     *authz.Request
	refused azDecision
}

// evaluationsOf resolves each evaluation against the request's defaults. An error is
// about the whole payload; an invalid evaluation is refused on its own, denied with
// the error in its context, and the others are still decided.
func (s *Server) evaluationsOf(body *azEvaluations) ([]azItem, string, error) {
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
	items := make([]azItem, len(body.Evaluations))
	for i, ev := range body.Evaluations {
		merged := ev.withDefaults(&body.azEvaluation)
		req, err := merged.request()
		if err != nil {
			ae := asAPIError(err)
			items[i].refused = azDecision{Context: azContext{Error: &azError{
				Status: ae.Status, Code: ae.Code, Message: fmt.Sprintf("evaluations[%d]: %s", i, ae.Message),
			}}}
			continue
		}
		items[i].req = req
	}
	return items, semantic, nil
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
	return ev
}

// request maps an AuthZEN evaluation onto rolegate's request.
func (ev *azEvaluation) request() (*authz.Request, error) {
	switch {
	case ev.Subject == nil || ev.Subject.ID == "":
		return nil, badRequest("missing_field", "subject.id is required")
	case ev.Subject.Type == "":
		return nil, badRequest("missing_field", "subject.type is required")
	case ev.Action == nil || ev.Action.Name == "":
		return nil, badRequest("missing_field", "action.name is required")
	case ev.Resource == nil:
		return nil, badRequest("missing_field", "resource is required")
	case ev.Resource.Type == "":
		return nil, badRequest("missing_field", "resource.type is required")
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

// azConfiguration is the PDP metadata of AuthZEN 1.0. policy_decision_point is the
// issuer's name in the drafts before 1.0, kept for their clients.
type azConfiguration struct {
	Issuer                    string `json:"issuer"`
	PDP                       string `json:"policy_decision_point"`
	AccessEvaluationEndpoint  string `json:"access_evaluation_endpoint"`
	AccessEvaluationsEndpoint string `json:"access_evaluations_endpoint"`
}

// authzenConfiguration is the PDP metadata, built from the configured public URL, or
// without one from the request's own host (for development: a client chooses it).
func (s *Server) authzenConfiguration(c *ctx) error {
	base := s.opts.PublicURL
	if base == "" {
		scheme := "http"
		if c.Request.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + c.Request.Host
	}
	s.writeJSON(c, http.StatusOK, azConfiguration{
		Issuer:                    base,
		PDP:                       base,
		AccessEvaluationEndpoint:  base + "/access/v1/evaluation",
		AccessEvaluationsEndpoint: base + "/access/v1/evaluations",
	})
	return nil
}
