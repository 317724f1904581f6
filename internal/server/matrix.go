package server

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/matrix"
)

// matrixTimeout bounds computing the matrix of one policy revision: a few thousand
// evaluations, done once per revision whatever the request's own timeout.
const matrixTimeout = 30 * time.Second

// matrixResponse is GET /v1/matrix: the role × operation table of the active policy,
// per workspace type, with the meaning of each scope symbol.
type matrixResponse struct {
	PolicyRevision string             `json:"policy_revision"`
	ComputedAt     time.Time          `json:"computed_at"`
	Scopes         []matrix.ScopeInfo `json:"scopes"`
	WorkspaceTypes []matrix.Table     `json:"workspace_types"`
}

// matrixCache keeps the matrix of the last policy it was computed for; a new policy
// revision is a new *engine.Policy, so an entry never answers for another one.
type matrixCache struct {
	mu     sync.Mutex
	policy *engine.Policy
	answer *matrixResponse
}

// get returns p's matrix, computing it when the cache holds another policy's. One
// computation runs at a time; callers for the same policy wait for it.
func (mc *matrixCache) get(ctx context.Context, p *engine.Policy) (*matrixResponse, error) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if mc.policy == p {
		return mc.answer, nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), matrixTimeout)
	defer cancel()
	m, err := matrix.Compute(ctx, p)
	if err != nil {
		return nil, err
	}
	mc.policy = p
	mc.answer = &matrixResponse{
		PolicyRevision: m.PolicyRevision, ComputedAt: time.Now().UTC(),
		Scopes: matrix.Legend, WorkspaceTypes: m.Tables,
	}
	return mc.answer, nil
}

func (s *Server) matrix(c *ctx) error {
	p := s.opts.Service.Engine().Policy()
	if p == nil {
		err := errors.New("no policy is active")
		return &apiError{
			Status: http.StatusServiceUnavailable, Code: "not_ready", Message: err.Error(), Err: err,
		}
	}
	m, err := s.matrices.get(c.Request.Context(), p)
	if err != nil {
		return &apiError{
			Status: http.StatusInternalServerError, Code: "internal",
			Message: "internal error", Err: err,
		}
	}
	s.writeJSON(c, http.StatusOK, m)
	return nil
}
