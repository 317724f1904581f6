// Package server is rolegate's HTTP API on Gin: the decision endpoints, AuthZEN, the
// OPA-compatible data API, health and metrics. It is the only package that imports
// Gin. Handlers return errors; one writer turns them into the error shape.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/config"
	"github.com/rolegate/rolegate/internal/gateway"
	"github.com/rolegate/rolegate/internal/members"
	"github.com/rolegate/rolegate/internal/metrics"
	"github.com/rolegate/rolegate/internal/source"
)

// Store is what the server needs of the membership store: its facts' revision and
// whether it is reachable.
type Store interface {
	Revision(ctx context.Context) (uint64, error)
	Ping(ctx context.Context) error
}

// Options are what the server is built from.
type Options struct {
	Service *authz.Service
	// Store is the membership store, pinged for readiness; StoreKind names it.
	Store     Store
	StoreKind string
	// Source keeps the policy current; nil for a policy that never changes.
	Source *source.Manager
	Limits config.Limits
	// PublicURL is the base URL clients reach the service at, without a trailing
	// slash; empty builds it from each request.
	PublicURL string
	Logger    *slog.Logger
	Metrics   *metrics.Metrics
	// Members runs the membership API; nil leaves it out.
	Members *members.Manager
	// Auth authenticates the administrative routes; nil refuses every caller.
	Auth Authenticator
	// Gateway answers the forward-auth family (Envoy HTTP, nginx, Traefik); nil
	// leaves those routes out.
	Gateway *gateway.Gateway
}

// Server serves the HTTP API.
type Server struct {
	opts        Options
	router      *gin.Engine
	adminRoutes []string
	started     time.Time
	matrices    matrixCache
}

func init() { gin.SetMode(gin.ReleaseMode) }

// New returns a server with every route registered.
func New(opts Options) *Server {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	s := &Server{opts: opts, router: r, started: time.Now().UTC()}
	r.Use(s.recoverPanics, s.observe, s.limitRequest)
	s.routes()
	return s
}

// Route is one registered route.
type Route struct {
	Method, Path string
}

// Routes lists every registered route.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.router.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	return out
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.router }

// observe counts every request by route template and status.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	if s.opts.Metrics != nil {
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		s.opts.Metrics.ObserveRequest(route, c.Writer.Status(), time.Since(start))
	}
}

// recoverPanics turns a panic in a handler into a 500 in the error shape.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			s.opts.Logger.Error("handler panic", "route", c.FullPath(), "panic", p)
			s.writeError(c, internalError("handler panic"))
			c.Abort()
		}
	}()
	c.Next()
}

// requestContext bounds the request's work by the configured timeout.
func (s *Server) requestContext(c *gin.Context) (context.Context, context.CancelFunc) {
	return withDeadline(c.Request.Context(), time.Now().Add(s.opts.Limits.RequestTimeout))
}
