package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/redis"
	"github.com/rolegate/rolegate/internal/source"
)

// ObserveEngine exports the active policy's decision cache counters. They start
// again from zero when a new policy revision is activated.
func (m *Metrics) ObserveEngine(e *engine.Engine) {
	stats := func() engine.CacheStats {
		if p := e.Policy(); p != nil {
			return p.CacheStats()
		}
		return engine.CacheStats{}
	}
	m.registry.MustRegister(
		counterFunc("rolegate_decision_cache_hits_total", "Decisions answered from the decision cache.",
			func() uint64 { return stats().Hits }),
		counterFunc("rolegate_decision_cache_misses_total", "Decisions the policy evaluated.",
			func() uint64 { return stats().Misses }),
	)
}

// LookupCounter is a membership store that counts its lookups; both stores do.
type LookupCounter interface {
	Lookups() membership.LookupStats
}

// ObserveStore exports the store's lookups by result and, for Redis, its near cache
// counters. Every result is exported from the start, at zero.
func (m *Metrics) ObserveStore(s LookupCounter) {
	lookups := prometheus.NewDesc("rolegate_store_lookups_total",
		"Membership store lookups, by result: hit (from process memory), miss (went to Redis), error.",
		[]string{"result"}, nil)
	m.registry.MustRegister(collectorFunc(func(ch chan<- prometheus.Metric) {
		st := s.Lookups()
		for result, n := range map[string]uint64{"hit": st.Hits, "miss": st.Misses, "error": st.Errors} {
			ch <- prometheus.MustNewConstMetric(lookups, prometheus.CounterValue, float64(n), result)
		}
	}, lookups))
	if r, ok := s.(*redis.Store); ok {
		m.observeRedis(r)
	}
}

func (m *Metrics) observeRedis(s *redis.Store) {
	m.registry.MustRegister(
		counterFunc("rolegate_store_fetches_total", "Reads of Redis that cache misses made.",
			func() uint64 { return s.Stats().Fetches }),
		counterFunc("rolegate_store_invalidations_total", "Invalidations applied to the near cache.",
			func() uint64 { return s.Stats().Invalidations }),
		counterFunc("rolegate_store_cache_drops_total", "Times the whole near cache was emptied.",
			func() uint64 { return s.Stats().Drops }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rolegate_store_subscribed", Help: "1 while invalidations arrive from Redis.",
		}, func() float64 {
			if s.Stats().Subscribed {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rolegate_store_cache_entries", Help: "Entries in the near cache.",
		}, func() float64 { return float64(s.Stats().Entries) }),
	)
}

// ObserveSource exports the policy source's refresh counters.
func (m *Metrics) ObserveSource(s *source.Manager) {
	failures := prometheus.NewDesc("rolegate_policy_refresh_failures_total",
		"Policy refreshes that failed, by stage.", []string{"stage"}, nil)
	m.registry.MustRegister(
		counterFunc("rolegate_policy_refreshes_total", "Policy refresh attempts.",
			func() uint64 { return s.Stats().Refreshes }),
		counterFunc("rolegate_policy_activations_total", "Policy revisions activated.",
			func() uint64 { return s.Stats().Activations }),
		collectorFunc(func(ch chan<- prometheus.Metric) {
			for stage, n := range s.Stats().Failures {
				ch <- prometheus.MustNewConstMetric(failures, prometheus.CounterValue, float64(n), string(stage))
			}
		}, failures),
	)
}

func counterFunc(name, help string, f func() uint64) prometheus.CounterFunc {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
		func() float64 { return float64(f()) })
}

// scrapeCollector is a collector of one labelled metric computed at scrape time.
type scrapeCollector struct {
	collect func(ch chan<- prometheus.Metric)
	desc    *prometheus.Desc
}

func collectorFunc(collect func(ch chan<- prometheus.Metric), desc *prometheus.Desc) prometheus.Collector {
	return scrapeCollector{collect: collect, desc: desc}
}

func (c scrapeCollector) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

func (c scrapeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
