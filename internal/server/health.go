package server

import (
	"errors"
	"net/http"
)

type healthResponse struct {
	Status string `json:"status"`
}

// healthz says the process is alive and serving HTTP.
func (s *Server) healthz(c *ctx) error {
	s.writeJSON(c, http.StatusOK, healthResponse{Status: "ok"})
	return nil
}

// readyz says whether decisions can be made: a policy is active and the membership
// store answers. It is 503, with the reason, otherwise.
func (s *Server) readyz(c *ctx) error {
	if s.opts.Service.Engine().Policy() == nil {
		return notReady("no policy is active", nil)
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	if err := s.opts.Store.Ping(ctx); err != nil {
		return notReady("the membership store is unreachable", err)
	}
	s.writeJSON(c, http.StatusOK, healthResponse{Status: "ready"})
	return nil
}

func notReady(message string, err error) *apiError {
	if err == nil {
		err = errors.New(message)
	}
	return &apiError{Status: http.StatusServiceUnavailable, Code: "not_ready", Message: message, Err: err}
}
