package redis_test

import (
	"flag"
	"log/slog"
	"os"
	"testing"

	"github.com/rolegate/rolegate/internal/membership/redis"
)

// TestMain keeps go-redis's own log lines, of which the fault tests cause many,
// out of the test output unless -v asks for them.
func TestMain(m *testing.M) {
	flag.Parse()
	level := slog.LevelError
	if testing.Verbose() {
		level = slog.LevelWarn
	}
	redis.RouteClientLogs(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	os.Exit(m.Run())
}
