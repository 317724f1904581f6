package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/rolegate/rolegate/internal/auth"
	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/config"
	"github.com/rolegate/rolegate/internal/decisionlog"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/gateway"
	"github.com/rolegate/rolegate/internal/members"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/membership/redis"
	"github.com/rolegate/rolegate/internal/metrics"
	"github.com/rolegate/rolegate/internal/server"
	"github.com/rolegate/rolegate/internal/source"
)

// serveFlags are the few settings people type; they override the config file and
// the environment.
type serveFlags struct {
	config, addr, data, policy, redis string
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [--config FILE] [--data FILE | --redis URL] [--addr HOST:PORT] [--policy DIR|BUNDLE]",
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
	cmd.Flags().StringVar(&f.policy, "policy", "",
		"policy directory or bundle file, reloaded on change (default: built in)")
	cmd.Flags().StringVar(&f.redis, "redis", "",
		"Redis URL of the membership store, redis://HOST:PORT/DB ($ROLEGATE_REDIS_URL)")
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
	if flags.Changed("redis") {
		rc := redis.DefaultConfig()
		if cfg.Redis != nil {
			rc = *cfg.Redis
		}
		rc.URL, rc.Addrs = f.redis, nil
		cfg.Redis = &rc
	}
	return cfg, cfg.Validate()
}

// serve runs the service until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, cfg config.Config, stderr, stdout io.Writer) error {
	// Decision ids need to be unique, not secret: take their random bits from a
	// buffer filled in blocks rather than from one system call per decision. This
	// runs before anything makes an id, as the uuid package requires.
	uuid.EnableRandPool()
	logger, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	app, err := assemble(ctx, cfg, logger, stdout)
	if err != nil {
		return err
	}
	defer app.close()

	servers := []func(context.Context) error{
		func(ctx context.Context) error { return listenAndServe(ctx, cfg, app.server, logger) },
	}
	if app.gateway != nil {
		lis, err := net.Listen("tcp", cfg.Gateway.GRPCAddr)
		if err != nil {
			return fmt.Errorf("listen for envoy ext_authz: %w", err)
		}
		servers = append(servers, func(ctx context.Context) error {
			return gateway.NewEnvoyServer(app.gateway, logger).Serve(ctx, lis)
		})
	}
	if cfg.DebugAddr != "" {
		servers = append(servers, func(ctx context.Context) error { return serveDebug(ctx, cfg.DebugAddr, logger) })
	}
	return runAll(ctx, servers)
}

// runAll runs every server until ctx is done or one fails, which stops the others; it
// returns the first failure.
func runAll(ctx context.Context, servers []func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(servers))
	for _, serve := range servers {
		go func() { errc <- serve(ctx) }()
	}
	var first error
	for range servers {
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
	closers []func()
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// assemble builds the service's parts from the configuration: the policy and its
// source, the membership store, the decision service and its recorders, the gateway
// and the HTTP server. On an error, what was built is closed.
func assemble(ctx context.Context, cfg config.Config, logger *slog.Logger, stdout io.Writer) (a *app, err error) {
	a = &app{}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	eng := engine.New(nil)
	m := metrics.New()
	m.ObserveEngine(eng)

	src, err := startPolicy(ctx, cfg, eng, logger)
	if err != nil {
		return a, err
	}
	if src != nil {
		a.closers = append(a.closers, src.Stop)
		m.ObserveSource(src)
	}
	store, kind, err := openStore(ctx, cfg, eng, logger, m)
	if err != nil {
		return a, err
	}
	a.closers = append(a.closers, func() { _ = store.Close() })

	svc, err := decisionService(cfg, eng, store, m, stdout, a)
	if err != nil {
		return a, err
	}
	opts := server.Options{
		Service: svc, Store: store, StoreKind: kind, Source: src, Limits: cfg.Limits,
		Logger: logger, Metrics: m, Members: members.New(store, svc, nil),
		PublicURL: strings.TrimSuffix(cfg.PublicURL, "/"),
	}
	if cfg.AuthEnabled() {
		if opts.Auth, err = auth.New(cfg.Auth); err != nil {
			return a, err
		}
	}
	if cfg.Gateway != nil {
		if a.gateway, err = gateway.New(*cfg.Gateway, svc, logger); err != nil {
			return a, err
		}
		opts.Gateway = a.gateway
	}
	a.server = server.New(opts)
	return a, nil
}

// startPolicy activates the policy: the one built in, or the configured source's
// first revision (a source keeps it current afterwards).
func startPolicy(ctx context.Context, cfg config.Config, eng *engine.Engine, logger *slog.Logger,
) (*source.Manager, error) {
	sc, err := cfg.Source()
	if err != nil {
		return nil, err
	}
	if sc == nil {
		p, err := compilePolicy(ctx, "")
		if err != nil {
			return nil, err
		}
		eng.Activate(p)
		logger.Info("policy active", "revision", p.Revision(), "source", "built in")
		return nil, nil
	}
	src, err := source.New(*sc, eng, logger)
	if err != nil {
		return nil, err
	}
	if err := src.Start(ctx); err != nil {
		return nil, err
	}
	return src, nil
}

// openStore opens Redis when configured, else the embedded store loaded from the
// data file, validated against the active policy's roles.
func openStore(ctx context.Context, cfg config.Config, eng *engine.Engine, logger *slog.Logger,
	m *metrics.Metrics,
) (membership.Store, string, error) {
	if cfg.Redis != nil {
		redis.RouteClientLogs(logger)
		store, err := redis.Open(*cfg.Redis, logger)
		if err != nil {
			return nil, "", err
		}
		m.ObserveStore(store)
		if err := store.Ping(ctx); err != nil {
			logger.Warn("redis unreachable at start; decisions are denied until it answers", "error", err)
		}
		return store, "redis", nil
	}
	p := eng.Policy()
	if p == nil {
		// The source could not load a policy yet and keeps trying; until it does the
		// service is not ready, and the data is checked against the built-in roles.
		builtin, err := compilePolicy(ctx, "")
		if err != nil {
			return nil, "", err
		}
		logger.Warn("no policy active yet: membership data validated against the built-in role model")
		p = builtin
	}
	data, err := membership.LoadFile(cfg.Data, p.Model().RoleTypes())
	if err != nil {
		return nil, "", err
	}
	logger.Info("membership data loaded", "file", cfg.Data,
		"workspaces", len(data.Workspaces), "memberships", len(data.Memberships))
	store := memory.New(data)
	m.ObserveStore(store)
	return store, "memory", nil
}

// decisionService builds the decision service with its recorders: metrics and the
// decision log.
func decisionService(cfg config.Config, eng *engine.Engine, store membership.Reader, m *metrics.Metrics,
	stdout io.Writer, a *app,
) (*authz.Service, error) {
	dlog, closeLog, err := openDecisionLog(cfg.DecisionLog, stdout)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, closeLog)
	opts := []authz.Option{authz.WithRecorder(m), authz.WithConsistencyWait(cfg.Limits.ConsistencyWait)}
	if dlog != nil {
		opts = append(opts, authz.WithRecorder(dlog))
	}
	return authz.NewService(eng, store, opts...), nil
}

// listenAndServe serves HTTP until ctx is done, then shuts down gracefully.
func listenAndServe(ctx context.Context, cfg config.Config, srv *server.Server, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := srv.HTTPServer()
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
