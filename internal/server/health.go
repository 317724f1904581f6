package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/rolegate/rolegate/internal/membership/redis"
)

type healthResponse struct {
	Status string `json:"status"`
}

// healthz says the process is alive and serving HTTP.
func (s *Server) healthz(c *ctx) error {
	s.writeJSON(c, http.StatusOK, healthResponse{Status: "ok"})
	return nil
}

// readyz says whether decisions can be made: a policy is active and not stale, and
// the membership store answers. Without a usable policy it is 503 not_ready; with an
// unreachable store it is 503 degraded (decisions on fresh cached facts go on, the
// others are denied).
func (s *Server) readyz(c *ctx) error {
	if err := s.policyReady(); err != nil {
		return &apiError{Status: http.StatusServiceUnavailable, Code: "not_ready", Message: err.Error(), Err: err}
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	if err := s.storeReady(ctx); err != nil {
		return &apiError{
			Status: http.StatusServiceUnavailable, Code: "degraded",
			Message: err.Error() + "; decisions on fresh cached facts continue, others are denied", Err: err,
		}
	}
	s.writeJSON(c, http.StatusOK, healthResponse{Status: "ready"})
	return nil
}

// policyReady reports why no decision can be made on the policy, if so.
func (s *Server) policyReady() error {
	if s.opts.Source != nil {
		return s.opts.Source.Ready()
	}
	p, staleAt := s.opts.Service.Engine().Active()
	switch {
	case p == nil:
		return errors.New("no policy is active")
	case !staleAt.IsZero() && time.Now().After(staleAt):
		return errors.New("the policy is stale")
	}
	return nil
}

// storeReady reports why the membership store is not serving, if so.
func (s *Server) storeReady(ctx context.Context) error {
	if err := s.opts.Store.Ping(ctx); err != nil {
		return errors.New("the membership store is unreachable")
	}
	if r, ok := s.opts.Store.(*redis.Store); ok && !r.Stats().Subscribed {
		return errors.New("the membership store's invalidations are not arriving")
	}
	return nil
}
