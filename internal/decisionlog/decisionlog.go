// Package decisionlog writes the decision log, one JSON line per decision on a stream
// apart from the service's own log, and reads it back. Each line holds the request,
// the facts the policy was given, the evaluation time and the answer, so that a
// decision can be replayed against another policy.
package decisionlog

import (
	"context"
	"io"
	"log/slog"
	"strconv"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
)

// Message is the message of every decision log line.
const Message = "decision"

// Logger writes decision log lines. It implements authz.Recorder.
type Logger struct {
	handler slog.Handler
}

// New returns a logger writing JSON lines to w.
func New(w io.Writer) *Logger {
	return &Logger{handler: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})}
}

// Record writes one line for the decision. It never logs credentials: a request has
// none, and the facts are memberships.
func (l *Logger) Record(ctx context.Context, req *authz.Request, d *authz.Decision) {
	r := slog.NewRecord(d.Time, slog.LevelInfo, Message, 0)
	r.AddAttrs(
		slog.String("decision_id", d.ID),
		slog.String("subject", req.Subject),
		slog.String("action", req.Action),
		slog.Any("resource", req.Resource),
		slog.Bool("allow", d.Allow),
		slog.Any("reasons", codes(d.Reasons)),
		slog.Group("revision",
			slog.String("policy", d.PolicyRevision),
			slog.String("membership", strconv.FormatUint(d.MembershipRevision, 10))),
		slog.Any("facts", factsOf(d.Facts)),
		slog.Float64("latency_ms", float64(d.Duration.Microseconds())/1000),
	)
	if d.Err != nil {
		r.AddAttrs(slog.String("error", d.Err.Error()))
	}
	_ = l.handler.Handle(ctx, r)
}

func codes(reasons []engine.Reason) []string {
	out := make([]string, len(reasons))
	for i, r := range reasons {
		out[i] = r.Code
	}
	return out
}

// Facts is how a decision's facts appear in the log.
type Facts struct {
	Workspace   *membership.Workspace   `json:"workspace,omitempty"`
	Memberships []membership.Membership `json:"memberships"`
}

func factsOf(f engine.Facts) Facts {
	return Facts{Workspace: f.Workspace, Memberships: f.Memberships}
}
