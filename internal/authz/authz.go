// Package authz answers authorization requests: it looks up the resource's workspace
// and the subject's memberships in the membership store, then asks the policy. It
// fails closed: any error becomes a denial with a reason.
package authz

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
)

// Reason codes the service gives when the policy could not be asked.
const (
	CodeStaleMembership       = "stale_membership"
	CodeMembershipUnavailable = "membership_unavailable"
	CodePolicyUnavailable     = "policy_unavailable"
	CodePolicyError           = "policy_error"
	// CodePolicyStale: the active policy is older than its source's maximum age
	// allows, because no refresh succeeded in time (see engine.Engine.Active).
	CodePolicyStale = "policy_stale"
)

// FailureCodes are the reason codes of decisions that could not be made and were
// denied; a denial with one of them carries an Err.
var FailureCodes = []string{
	CodeStaleMembership, CodeMembershipUnavailable, CodePolicyUnavailable, CodePolicyError, CodePolicyStale,
}

// Decision is the answer to one Request.
type Decision struct {
	// ID identifies the decision in responses and the decision log.
	ID                 string
	Allow              bool
	Reasons            []engine.Reason
	PolicyRevision     string
	MembershipRevision uint64
	// Facts are what the policy was given about the subject and the workspace.
	Facts engine.Facts
	// Time is the evaluation's notion of now; Duration how long the decision took.
	Time     time.Time
	Duration time.Duration
	// Err is why the decision could not be made, when it could not; the decision is
	// then a denial. It is for logs and metrics, never for the caller.
	Err error
}

// Recorder is told about every decision once it is made, for the decision log and
// metrics. It must not retain req or d after returning.
type Recorder interface {
	Record(ctx context.Context, req *Request, d *Decision)
}

// DefaultConsistencyWait bounds the wait for a revision a request asks for.
const DefaultConsistencyWait = 200 * time.Millisecond

// Service decides requests with the engine's active policy and the store's facts.
type Service struct {
	engine          *engine.Engine
	store           membership.Reader
	recorders       []Recorder
	now             func() time.Time
	consistencyWait time.Duration
}

// Option configures a Service.
type Option func(*Service)

// WithRecorder has every decision recorded by r, after the recorders given before.
func WithRecorder(r Recorder) Option {
	return func(s *Service) { s.recorders = append(s.recorders, r) }
}

// WithConsistencyWait bounds how long a decision waits for the membership revision
// its request asks for before it is denied with stale_membership.
func WithConsistencyWait(d time.Duration) Option {
	return func(s *Service) { s.consistencyWait = d }
}

// WithClock makes the service read the time from now, for tests and replays.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns a service over the engine and the membership store.
func NewService(e *engine.Engine, store membership.Reader, opts ...Option) *Service {
	s := &Service{engine: e, store: store, now: time.Now, consistencyWait: DefaultConsistencyWait}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Engine returns the engine the service decides with.
func (s *Service) Engine() *engine.Engine { return s.engine }

// Decide answers the request. It never returns an allow it did not get from the
// policy: a missing or stale policy, an unreachable store or a failed evaluation deny.
func (s *Service) Decide(ctx context.Context, req *Request) Decision {
	return s.DecidePinned(ctx, s.Pin(), req)
}

// Pinned is the active policy taken once, with its stale time, for a request whose
// steps must all see one revision: a gateway check matches its route on the pinned
// policy and is then decided on it, whatever is activated meanwhile.
type Pinned struct {
	policy  *engine.Policy
	staleAt time.Time
}

// Pin takes the active policy.
func (s *Service) Pin() Pinned {
	p, staleAt := s.engine.Active()
	return Pinned{policy: p, staleAt: staleAt}
}

// Policy returns the pinned policy; nil when none was active.
func (p Pinned) Policy() *engine.Policy { return p.policy }

// DecidePinned answers the request on the pinned policy, as Decide does on the active
// one: a missing or stale pinned policy denies.
func (s *Service) DecidePinned(ctx context.Context, pin Pinned, req *Request) Decision {
	start := s.now()
	d := s.decide(ctx, pin, req, start)
	return s.finish(ctx, req, d, start)
}

// finish stamps the decision with its id and timing and records it.
func (s *Service) finish(ctx context.Context, req *Request, d Decision, start time.Time) Decision {
	d.ID = newDecisionID()
	d.Time = start
	d.Duration = s.now().Sub(start)
	for _, r := range s.recorders {
		r.Record(ctx, req, &d)
	}
	return d
}

// DecideOn answers the request on the facts given instead of the store's, and records
// it like any other decision. It serves callers that hold fresher facts than the
// store's readers, such as a membership write checking its actor inside the write.
func (s *Service) DecideOn(ctx context.Context, req *Request, facts engine.Facts, rev uint64) Decision {
	start := s.now()
	p, refused := s.Pin().check(start)
	if refused != nil {
		return s.finish(ctx, req, *refused, start)
	}
	return s.finish(ctx, req, s.evaluate(ctx, p, req, facts, rev, start), start)
}

func (s *Service) decide(ctx context.Context, pin Pinned, req *Request, now time.Time) Decision {
	p, refused := pin.check(now)
	if refused != nil {
		return *refused
	}
	if req.Consistency != nil {
		if d, ok := s.sync(ctx, p, req.Consistency); !ok {
			return d
		}
	}
	facts, rev, err := s.facts(ctx, req)
	if err != nil {
		return deny(p.Revision(), CodeMembershipUnavailable, "membership facts could not be read", err)
	}
	return s.evaluate(ctx, p, req, facts, rev, now)
}

// sync waits, within the consistency wait, until the store reflects the revision
// the request asks for; it returns the denial to give when it does not.
func (s *Service) sync(ctx context.Context, p *engine.Policy, c *Consistency) (Decision, bool) {
	rev, err := c.Revision()
	if err != nil {
		return deny(p.Revision(), CodeStaleMembership, "consistency.at_least is not a revision", err), false
	}
	ctx, cancel := context.WithTimeout(ctx, s.consistencyWait)
	defer cancel()
	switch err := s.store.Sync(ctx, rev); {
	case err == nil:
		return Decision{}, true
	case errors.Is(err, membership.ErrStale) || errors.Is(err, context.DeadlineExceeded):
		return deny(p.Revision(), CodeStaleMembership,
			fmt.Sprintf("membership data did not reach revision %d in time", rev), err), false
	default:
		return deny(p.Revision(), CodeMembershipUnavailable, "membership facts could not be read", err), false
	}
}

// check returns the pinned policy, or the denial to give when there is none or it is
// stale at now.
func (p Pinned) check(now time.Time) (*engine.Policy, *Decision) {
	if p.policy == nil {
		d := deny("", CodePolicyUnavailable, "no policy is active", errors.New("no active policy"))
		return nil, &d
	}
	if !p.staleAt.IsZero() && now.After(p.staleAt) {
		d := denyStale(p.policy, p.staleAt)
		return nil, &d
	}
	return p.policy, nil
}

func (s *Service) evaluate(ctx context.Context, p *engine.Policy, req *Request, facts engine.Facts, rev uint64,
	now time.Time,
) Decision {
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
		Facts:              facts,
	}
}

// newDecisionID returns a time-ordered unique id (UUID version 7).
func newDecisionID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

func (s *Service) facts(ctx context.Context, req *Request) (engine.Facts, uint64, error) {
	var f engine.Facts
	rev, err := s.store.Revision(ctx)
	if err != nil {
		return f, 0, fmt.Errorf("membership revision: %w", err)
	}
	f.Workspace, f.Memberships, err = membership.ReadFacts(ctx, s.store, req.Resource.Workspace, req.Subject)
	if err != nil {
		return f, 0, err
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
