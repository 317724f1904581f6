package server

import (
	"net/http"

	"github.com/rolegate/rolegate/internal/console"
	"github.com/rolegate/rolegate/internal/gateway"
	"github.com/rolegate/rolegate/internal/members"
)

// routes registers every route of the API; this is the one place to look for them.
func (s *Server) routes() {
	r := s.router

	r.POST("/v1/decisions", s.handle(s.decide))
	r.POST("/v1/decisions/batch", s.handle(s.decideBatch))
	r.GET("/v1/permissions", s.handle(s.permissions))
	r.GET("/v1/matrix", s.handle(s.matrix))

	r.POST("/access/v1/evaluation", s.handle(s.authzenEvaluation))
	r.POST("/access/v1/evaluations", s.handle(s.authzenEvaluations))
	r.GET("/.well-known/authzen-configuration", s.handle(s.authzenConfiguration))

	r.POST("/v1/data/*path", s.handle(s.data))

	if g := s.opts.Gateway; g != nil {
		r.Any(gateway.ForwardAuthPath, s.forwardAuth)
		r.Any(g.Config().EnvoyPathPrefix+"/*path", s.forwardAuth)
	}

	if s.opts.Members != nil {
		s.admin(http.MethodPost, "/v1/workspaces", s.createWorkspace)
		s.admin(http.MethodGet, "/v1/workspaces/:workspace/members", s.listMembers)
		s.admin(http.MethodPost, "/v1/workspaces/:workspace/invitations", s.invite)
		s.admin(http.MethodPost, "/v1/workspaces/:workspace/invitations/:user/accept", s.accept)
		s.admin(http.MethodPost, "/v1/workspaces/:workspace/invitations/:user/resend",
			s.memberChange((*members.Manager).Resend))
		s.admin(http.MethodDelete, "/v1/workspaces/:workspace/invitations/:user",
			s.memberDelete((*members.Manager).Withdraw))
		s.admin(http.MethodPut, "/v1/workspaces/:workspace/members/:user/role", s.assignRole)
		s.admin(http.MethodPost, "/v1/workspaces/:workspace/members/:user/block",
			s.memberChange((*members.Manager).Block))
		s.admin(http.MethodPost, "/v1/workspaces/:workspace/members/:user/unblock",
			s.memberChange((*members.Manager).Unblock))
		s.admin(http.MethodDelete, "/v1/workspaces/:workspace/members/:user",
			s.memberDelete((*members.Manager).Remove))
	}

	r.GET(console.Prefix, s.handle(s.consolePage))
	r.GET(console.Prefix+"/*path", s.handle(s.consolePage))

	r.GET("/healthz", s.handle(s.healthz))
	r.GET("/readyz", s.handle(s.readyz))
	r.GET("/v1/status", s.handle(s.status))
	if s.opts.Metrics != nil {
		r.GET("/metrics", s.wrap(s.opts.Metrics.Handler()))
	}

	r.NoRoute(s.handle(func(c *ctx) error {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no route " + c.Request.URL.Path}
	}))
	r.NoMethod(s.handle(func(c *ctx) error {
		return &apiError{
			Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: c.Request.Method + " is not allowed on " + c.Request.URL.Path,
		}
	}))
}
