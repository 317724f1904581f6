package server

import "net/http"

// routes registers every route of the API; this is the one place to look for them.
func (s *Server) routes() {
	r := s.router

	r.POST("/v1/decisions", s.handle(s.decide))
	r.POST("/v1/decisions/batch", s.handle(s.decideBatch))
	r.GET("/v1/permissions", s.handle(s.permissions))

	r.POST("/access/v1/evaluation", s.handle(s.authzenEvaluation))
	r.POST("/access/v1/evaluations", s.handle(s.authzenEvaluations))
	r.GET("/.well-known/authzen-configuration", s.handle(s.authzenConfiguration))

	r.POST("/v1/data/*path", s.handle(s.data))

	r.GET("/healthz", s.handle(s.healthz))
	r.GET("/readyz", s.handle(s.readyz))
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
