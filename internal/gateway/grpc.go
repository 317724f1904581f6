package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// EnvoyServer serves Envoy's ext_authz gRPC service
// (envoy.service.auth.v3.Authorization/Check) and the standard gRPC health service
// on a listener of its own.
type EnvoyServer struct {
	authv3.UnimplementedAuthorizationServer

	gw     *Gateway
	grpc   *grpc.Server
	health *health.Server
	grace  time.Duration
	log    *slog.Logger
}

// NewEnvoyServer returns a server for the gateway; opts are passed to grpc.NewServer
// (credentials, interceptors).
func NewEnvoyServer(gw *Gateway, log *slog.Logger, opts ...grpc.ServerOption) *EnvoyServer {
	s := &EnvoyServer{
		gw:     gw,
		grpc:   grpc.NewServer(opts...),
		health: health.NewServer(),
		grace:  gw.cfg.ShutdownGrace,
		log:    log,
	}
	authv3.RegisterAuthorizationServer(s.grpc, s)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	return s
}

// Check answers one ext_authz check; see Gateway.CheckEnvoy.
func (s *EnvoyServer) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	return s.gw.CheckEnvoy(ctx, req), nil
}

// Serve answers checks on lis until ctx is done, then stops gracefully: checks in
// flight get up to Config.ShutdownGrace to finish before the rest are cut off. It
// returns nil after a stop that ctx asked for.
func (s *EnvoyServer) Serve(ctx context.Context, lis net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- s.grpc.Serve(lis) }()
	s.log.Info("envoy ext_authz listening", "addr", lis.Addr().String())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	s.health.Shutdown()
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(s.grace):
		s.log.Warn("envoy ext_authz stop timed out, closing connections", "grace", s.grace.String())
		s.grpc.Stop()
		<-stopped
	}
	if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	s.log.Info("envoy ext_authz stopped")
	return nil
}
