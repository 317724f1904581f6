// Package authz answers authorization requests: it looks up the resource's workspace
// and the subject's memberships in the membership store, then asks the policy. It
// fails closed: any error becomes a denial with a reason.
package authz

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
)

// Reason codes the service gives when the policy could not be asked.
const (
	CodeMembershipUnavailable = "membership_unavailable"
	CodePolicyUnavailable     = "policy_unavailable"
	CodePolicyError           = "policy_error"
	// CodePolicyStale: the active policy is older than its source's maximum age
	// allows, because no refresh succeeded in time (see engine.Engine.Active).
	CodePolicyStale = "policy_stale"
)

// Decision is the answer to one Request.
type Decision struct {
	Allow              bool
	Reasons            []engine.Reason
	PolicyRevision     string
	MembershipRevision uint64
	// Err is why the decision could not be made, when it could not; the decision is
	// then a denial. It is for logs and metrics, never for the caller.
	Err error
}

// Service decides requests with the engine's active policy and the store's facts.
type Service struct {
	engine *engine.Engine
	store  membership.Reader
	now    func() time.Time
}

// NewService returns a service over the engine and the membership store.
func NewService(e *engine.Engine, store membership.Reader) *Service {
	return &Service{engine: e, store: store, now: time.Now}
}

// Decide answers the request. It never returns an allow it did not get from the
// policy: a missing or stale policy, an unreachable store or a failed evaluation deny.
func (s *Service) Decide(ctx context.Context, req *Request) Decision {
	p, staleAt := s.engine.Active()
	if p == nil {
		return deny("", CodePolicyUnavailable, "no policy is active", errors.New("no active policy"))
	}
	now := s.now()
	if !staleAt.IsZero() && now.After(staleAt) {
		return denyStale(p, staleAt)
	}

	facts, rev, err := s.facts(ctx, req)
	if err != nil {
		d := deny(p.Revision(), CodeMembershipUnavailable, "membership facts could not be read", err)
		return d
	}

	in := &engine.Input{
		Subject: req.Subject,
		Action:  req.Action,
		Resource: engine.Resource{
			Workspace:  req.Resource.Workspace,
			ID:         req.Resource.ID,
			Attributes: req.Resource.Attributes,
		},
		Facts: facts,
		Time:  now,
	}
	d, err := p.Decide(ctx, in)
	if err != nil {
		return deny(p.Revision(), CodePolicyError, "the policy could not be evaluated", err)
	}
	return Decision{
		Allow:              d.Allow,
		Reasons:            d.Reasons,
		PolicyRevision:     d.PolicyRevision,
		MembershipRevision: rev,
	}
}

func (s *Service) facts(ctx context.Context, req *Request) (engine.Facts, uint64, error) {
	var f engine.Facts
	rev, err := s.store.Revision(ctx)
	if err != nil {
		return f, 0, fmt.Errorf("membership revision: %w", err)
	}
	ws, err := s.store.Workspace(ctx, req.Resource.Workspace)
	switch {
	case err == nil:
		f.Workspace = &ws
	case !errors.Is(err, membership.ErrNotFound):
		return f, 0, fmt.Errorf("workspace %s: %w", req.Resource.Workspace, err)
	}
	if f.Memberships, err = s.store.UserMemberships(ctx, req.Subject); err != nil {
		return f, 0, fmt.Errorf("memberships of %s: %w", req.Subject, err)
	}
	return f, rev, nil
}

func denyStale(p *engine.Policy, staleAt time.Time) Decision {
	return deny(p.Revision(), CodePolicyStale, "the policy could not be refreshed in time",
		fmt.Errorf("policy %s stale since %s", p.Revision(), staleAt.Format(time.RFC3339)))
}

func deny(policyRevision, code, message string, err error) Decision {
	return Decision{
		PolicyRevision: policyRevision,
		Reasons:        []engine.Reason{{Code: code, Message: message}},
		Err:            err,
	}
}
