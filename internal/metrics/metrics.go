// Package metrics holds rolegate's Prometheus collectors in a registry of its own.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rolegate/rolegate/internal/authz"
)

// Metrics are the service's collectors. Record implements authz.Recorder.
type Metrics struct {
	registry *prometheus.Registry

	allowedTotal, deniedTotal atomic.Uint64

	allowed  prometheus.Counter
	denied   prometheus.Counter
	latency  prometheus.Histogram
	failures *prometheus.CounterVec
	requests *prometheus.CounterVec
}

// New returns the collectors registered in a new registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rolegate_decisions_total",
		Help: "Decisions made, by result.",
	}, []string{"result"})
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		allowed:  decisions.WithLabelValues("allow"),
		denied:   decisions.WithLabelValues("deny"),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rolegate_decision_duration_seconds",
			Help:    "Time to make one decision, fact lookup included.",
			Buckets: prometheus.ExponentialBuckets(10e-6, 2.5, 12),
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rolegate_decision_errors_total",
			Help: "Decisions that could not be made and were denied, by reason code.",
		}, []string{"code"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rolegate_http_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
	}
	// Every failure the service knows is exported from the start, at zero, so that a
	// rate or an alert on it has a series before the first failure.
	for _, code := range authz.FailureCodes {
		m.failures.WithLabelValues(code)
	}
	m.registry.MustRegister(decisions, m.latency, m.failures, m.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for other components to register their collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Record counts the decision.
func (m *Metrics) Record(_ context.Context, _ *authz.Request, d *authz.Decision) {
	if d.Allow {
		m.allowed.Inc()
		m.allowedTotal.Add(1)
	} else {
		m.denied.Inc()
		m.deniedTotal.Add(1)
	}
	m.latency.Observe(d.Duration.Seconds())
	if d.Err != nil && len(d.Reasons) > 0 {
		m.failures.WithLabelValues(d.Reasons[0].Code).Inc()
	}
}

// Totals returns how many decisions allowed and denied since the start.
func (m *Metrics) Totals() (allowed, denied uint64) {
	return m.allowedTotal.Load(), m.deniedTotal.Load()
}

// ObserveRequest counts one HTTP request by its route template and status.
func (m *Metrics) ObserveRequest(route string, status int, _ time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
