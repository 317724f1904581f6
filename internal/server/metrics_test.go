package server_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/metrics"
	"github.com/rolegate/rolegate/internal/server"
)

// TestMetrics checks the series an operator alerts on: decisions by result, their
// latency, failures (at zero before any), store lookups and the runtime's.
func TestMetrics(t *testing.T) {
	w := exampleWorld(t)
	m := metrics.New()
	m.ObserveStore(w.store.(*memory.Store))
	svc := authz.NewService(engine.New(w.policy), w.store, authz.WithRecorder(m))
	h := server.New(server.Options{
		Service: svc, Store: w.pinger, Limits: w.limits, Metrics: m,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}).Handler()
	call(h, "POST", "/v1/decisions", jsonType, allowReq)
	call(h, "POST", "/v1/decisions", jsonType, denyReq)
	body := call(h, "GET", "/metrics", "", "").Body.String()
	for _, want := range []string{
		`rolegate_http_requests_total{code="200",route="/v1/decisions"} 2`,
		`rolegate_decisions_total{result="allow"} 1`,
		`rolegate_decisions_total{result="deny"} 1`,
		"rolegate_decision_duration_seconds_count 2",
		`rolegate_decision_errors_total{code="membership_unavailable"} 0`,
		`rolegate_decision_errors_total{code="policy_stale"} 0`,
		`rolegate_store_lookups_total{result="hit"} 4`,
		`rolegate_store_lookups_total{result="error"} 0`,
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
