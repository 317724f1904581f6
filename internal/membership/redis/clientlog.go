package redis

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"
)

// RouteClientLogs sends the lines go-redis logs on its own (failed dials, pool
// trouble), which go to stderr by default, to log as warnings. go-redis has one
// logger per process, so this is for main to call once.
func RouteClientLogs(log *slog.Logger) { goredis.SetLogger(clientLogger{log}) }

type clientLogger struct{ log *slog.Logger }

func (l clientLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", "message", fmt.Sprintf(format, v...))
}
