package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/rolegate/rolegate/internal/auth"
	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/config"
	"github.com/rolegate/rolegate/internal/decisionlog"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/gateway"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/metrics"
	"github.com/rolegate/rolegate/internal/server"
)

// serveFlags are the few settings people type; they override the config file and
// the environment.
type serveFlags struct {
	config, addr, data, policy string
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [--config FILE] [--data FILE] [--addr HOST:PORT] [--policy DIR|BUNDLE]",
		Short: "Serve the decision API",
		Long: "Serve answers decisions over HTTP from the policy and the membership data.\n" +
			"Settings come from the YAML config file, then ROLEGATE_ environment variables,\n" +
			"then these flags (see docs/configuration.md).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadServeConfig(cmd, f)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, cmd.ErrOrStderr(), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&f.config, "config", os.Getenv("ROLEGATE_CONFIG"), "YAML config file ($ROLEGATE_CONFIG)")
	cmd.Flags().StringVar(&f.addr, "addr", "", "listen address (default "+config.DefaultAddr+")")
	cmd.Flags().StringVar(&f.data, "data", "", "membership data file for the embedded store")
	cmd.Flags().StringVar(&f.policy, "policy", "", "policy directory or bundle file (default: built in)")
	return cmd
}

func loadServeConfig(cmd *cobra.Command, f serveFlags) (config.Config, error) {
	cfg, err := config.Load(f.config, os.LookupEnv)
	if err != nil {
		return cfg, err
	}
	flags := cmd.Flags()
	if flags.Changed("addr") {
		cfg.Addr = f.addr
	}
	if flags.Changed("data") {
		cfg.Data = f.data
	}
	if flags.Changed("policy") {
		cfg.Policy = f.policy
	}
	if cfg.Data == "" {
		return cfg, errors.New("no membership data: give --data FILE (or data: in the config file)")
	}
	return cfg, cfg.Validate()
}

// serve runs the service until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, cfg config.Config, stderr, stdout io.Writer) error {
	logger, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	app, err := assemble(ctx, cfg, logger, stdout)
	if err != nil {
		return err
	}
	defer app.close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- listenAndServe(ctx, cfg, app.server.Handler(), logger) }()
	running := 1
	if app.gateway != nil {
		lis, err := net.Listen("tcp", cfg.Gateway.GRPCAddr)
		if err != nil {
			cancel()
			<-errc
			return fmt.Errorf("listen for envoy ext_authz: %w", err)
		}
		running++
		go func() { errc <- gateway.NewEnvoyServer(app.gateway, logger).Serve(ctx, lis) }()
	}
	var first error
	for range running {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	return first
}

// app is the service's assembled parts.
type app struct {
	server  *server.Server
	gateway *gateway.Gateway
	close   func()
}

// assemble builds the service's parts from the configuration.
func assemble(ctx context.Context, cfg config.Config, logger *slog.Logger, stdout io.Writer) (*app, error) {
	p, err := compilePolicy(ctx, cfg.Policy)
	if err != nil {
		return nil, err
	}
	data, err := membership.LoadFile(cfg.Data, p.Model().RoleTypes())
	if err != nil {
		return nil, err
	}
	store := memory.New(data)
	logger.Info("policy active", "revision", p.Revision(), "source", policySource(cfg.Policy))
	logger.Info("membership data loaded", "file", cfg.Data,
		"workspaces", len(data.Workspaces), "memberships", len(data.Memberships))

	m := metrics.New()
	dlog, closeLog, err := openDecisionLog(cfg.DecisionLog, stdout)
	if err != nil {
		return nil, err
	}
	opts := []authz.Option{authz.WithRecorder(m)}
	if dlog != nil {
		opts = append(opts, authz.WithRecorder(dlog))
	}
	eng := engine.New(p)
	svc := authz.NewService(eng, store, opts...)

	a := &app{close: closeLog}
	srvOpts := server.Options{Service: svc, Store: store, Limits: cfg.Limits, Logger: logger, Metrics: m}
	if cfg.AuthEnabled() {
		if srvOpts.Auth, err = auth.New(cfg.Auth); err != nil {
			closeLog()
			return nil, err
		}
	}
	if cfg.Gateway != nil {
		if a.gateway, err = gateway.New(*cfg.Gateway, eng, svc, logger); err != nil {
			closeLog()
			return nil, err
		}
		srvOpts.Gateway = a.gateway
	}
	a.server = server.New(srvOpts)
	return a, nil
}

// listenAndServe serves HTTP until ctx is done, then shuts down gracefully.
func listenAndServe(ctx context.Context, cfg config.Config, h http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String())

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

func newLogger(c config.Log, w io.Writer) (*slog.Logger, error) {
	level, err := config.ParseLevel(c.Level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	format := c.Format
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

// openDecisionLog opens the decision log's destination; nil when it is off.
func openDecisionLog(dest string, stdout io.Writer) (*decisionlog.Logger, func(), error) {
	switch dest {
	case "off":
		return nil, func() {}, nil
	case "stdout":
		return decisionlog.New(stdout), func() {}, nil
	case "stderr":
		return decisionlog.New(os.Stderr), func() {}, nil
	}
	f, err := os.OpenFile(dest, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("open decision log: %w", err)
	}
	return decisionlog.New(f), func() { f.Close() }, nil
}

func policySource(path string) string {
	if path == "" {
		return "built in"
	}
	return path
}
