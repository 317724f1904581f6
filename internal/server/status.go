package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership/redis"
	"github.com/rolegate/rolegate/internal/source"
)

// statusResponse is GET /v1/status: where the policy came from and how fresh it is,
// the membership store's revision and health, and decision counts.
type statusResponse struct {
	Policy     policyStatus     `json:"policy"`
	Membership membershipStatus `json:"membership"`
	Decisions  decisionCounts   `json:"decisions"`
	StartedAt  time.Time        `json:"started_at"`
}

type policyStatus struct {
	Revision string `json:"revision"`
	// ActivatedAt is when the active policy was activated (for the policy built in,
	// when the server started); AgeSeconds is how long ago, by the server's clock.
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	AgeSeconds  float64   `json:"age_seconds,omitempty"`
	Ready       bool      `json:"ready"`
	Reason      string    `json:"reason,omitempty"`
	// Source is the policy source's own status; nil for the policy built in.
	Source *source.Status `json:"source,omitempty"`
}

type membershipStatus struct {
	Store    string `json:"store"`
	Revision string `json:"revision"`
	Healthy  bool   `json:"healthy"`
	Error    string `json:"error,omitempty"`
	// Cache is the near cache's counters, for the Redis store.
	Cache *redis.Stats `json:"cache,omitempty"`
}

type decisionCounts struct {
	Allowed uint64            `json:"allowed"`
	Denied  uint64            `json:"denied"`
	Cache   engine.CacheStats `json:"cache"`
}

func (s *Server) status(c *ctx) error {
	ctx, cancel := s.requestContext(c)
	defer cancel()
	s.writeJSON(c, http.StatusOK, s.describe(ctx))
	return nil
}

// describe gathers the service's status.
func (s *Server) describe(ctx context.Context) statusResponse {
	st := statusResponse{StartedAt: s.started, Policy: s.describePolicy()}
	if p := s.opts.Service.Engine().Policy(); p != nil {
		st.Decisions.Cache = p.CacheStats()
	}

	st.Membership.Store = s.opts.StoreKind
	st.Membership.Healthy = true
	if err := s.storeReady(ctx); err != nil {
		st.Membership.Healthy, st.Membership.Error = false, err.Error()
	}
	if rev, err := s.opts.Store.Revision(ctx); err == nil {
		st.Membership.Revision = strconv.FormatUint(rev, 10)
	}
	if r, ok := s.opts.Store.(*redis.Store); ok {
		stats := r.Stats()
		st.Membership.Cache = &stats
	}
	if s.opts.Metrics != nil {
		st.Decisions.Allowed, st.Decisions.Denied = s.opts.Metrics.Totals()
	}
	return st
}

// describePolicy gathers the active policy's revision, age, readiness and source.
func (s *Server) describePolicy() policyStatus {
	ps := policyStatus{Ready: true}
	if err := s.policyReady(); err != nil {
		ps.Ready, ps.Reason = false, err.Error()
	}
	p := s.opts.Service.Engine().Policy()
	if p != nil {
		ps.Revision, ps.ActivatedAt = p.Revision(), s.started
	}
	if s.opts.Source != nil {
		src := s.opts.Source.Status()
		ps.Source, ps.ActivatedAt = &src, time.Time{}
		if src.Policy != nil && p != nil && src.Policy.Revision == p.Revision() {
			ps.ActivatedAt = src.Policy.ActivatedAt
		}
	}
	if !ps.ActivatedAt.IsZero() {
		ps.AgeSeconds = time.Since(ps.ActivatedAt).Seconds()
	}
	return ps
}
