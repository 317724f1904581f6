package server

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
)

// decisionResponse is the answer of POST /v1/decisions and each batch result.
type decisionResponse struct {
	DecisionID string          `json:"decision_id"`
	Allow      bool            `json:"allow"`
	Reasons    []engine.Reason `json:"reasons"`
	Revision   revision        `json:"revision"`
}

// revision names the policy and the membership data a decision was made on.
type revision struct {
	Policy     string `json:"policy"`
	Membership string `json:"membership"`
}

func responseOf(d *authz.Decision) decisionResponse {
	return decisionResponse{
		DecisionID: d.ID,
		Allow:      d.Allow,
		Reasons:    d.Reasons,
		Revision:   revisionOf(d.PolicyRevision, d.MembershipRevision),
	}
}

func revisionOf(policy string, membership uint64) revision {
	return revision{Policy: policy, Membership: strconv.FormatUint(membership, 10)}
}

func (s *Server) decide(c *ctx) error {
	var req authz.Request
	if err := s.readJSON(c, &req); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}

	ctx, cancel := s.requestContext(c)
	defer cancel()
	d := s.opts.Service.Decide(ctx, &req)

	resp := responseOf(&d)
	s.writeDecision(c, &resp)
	return nil
}

type batchRequest struct {
	Requests []authz.Request `json:"requests"`
}

type batchResponse struct {
	Results []decisionResponse `json:"results"`
}

func (s *Server) decideBatch(c *ctx) error {
	var batch batchRequest
	if err := s.readJSON(c, &batch); err != nil {
		return err
	}
	if err := s.validateBatch(batch.Requests); err != nil {
		return err
	}

	ctx, cancel := s.requestContext(c)
	defer cancel()
	out := batchResponse{Results: make([]decisionResponse, len(batch.Requests))}
	for i := range batch.Requests {
		d := s.opts.Service.Decide(ctx, &batch.Requests[i])
		out.Results[i] = responseOf(&d)
	}

	s.writeJSON(c, http.StatusOK, out)
	return nil
}

func (s *Server) validateBatch(reqs []authz.Request) error {
	switch {
	case len(reqs) == 0:
		return badRequest("missing_field", "requests is required and must not be empty")
	case len(reqs) > s.opts.Limits.MaxBatch:
		return badRequest("batch_too_large", "a batch holds at most %d requests, got %d",
			s.opts.Limits.MaxBatch, len(reqs))
	}
	for i := range reqs {
		if err := reqs[i].Validate(); err != nil {
			ae := asAPIError(err)
			ae.Message = fmt.Sprintf("requests[%d]: %s", i, ae.Message)
			return ae
		}
	}
	return nil
}
