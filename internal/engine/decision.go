package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
)

// Reason explains a decision with a stable snake_case code and a message for people.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Decision is the policy's answer to one Input.
type Decision struct {
	Allow   bool     `json:"allow"`
	Reasons []Reason `json:"reasons"`
	// PolicyRevision is the revision of the policy that answered.
	PolicyRevision string `json:"-"`
}

// ErrMalformedResult means the policy answered in a shape other than its contract's.
var ErrMalformedResult = errors.New("policy result does not match the decision contract")

// Decide evaluates the policy for the input, or returns the answer it gave to the
// same input before (see decisionCache). An error means no decision was made; the
// caller must deny. The returned Reasons must not be modified.
func (p *Policy) Decide(ctx context.Context, in *Input) (Decision, error) {
	if p.cache == nil {
		d, _, err := p.evaluate(ctx, in)
		return d, err
	}
	buf := keyBuffers.Get().(*[]byte)
	defer keyBuffers.Put(buf)
	key, cacheable := appendKey((*buf)[:0], in)
	*buf = key[:0]
	if cacheable {
		if d, ok := p.cache.get(key); ok {
			return d, nil
		}
	}
	d, readClock, err := p.evaluate(ctx, in)
	if err == nil && cacheable && !readClock {
		p.cache.put(key, d)
	}
	return d, err
}

// Evaluate asks the policy without looking in or filling the decision cache, for
// inputs that are no caller's request, such as the probes of the permission matrix:
// they would push real decisions out of the cache and count in its statistics.
func (p *Policy) Evaluate(ctx context.Context, in *Input) (Decision, error) {
	d, _, err := p.evaluate(ctx, in)
	return d, err
}

// evaluate asks the policy, and reports whether the evaluation read the clock.
func (p *Policy) evaluate(ctx context.Context, in *Input) (Decision, bool, error) {
	value, err := in.Value()
	if err != nil {
		return Decision{}, false, fmt.Errorf("decide: input: %w", err)
	}
	nd := builtins.NDBCache{}
	opts := []rego.EvalOption{rego.EvalParsedInput(value), rego.EvalNDBuiltinCache(nd)}
	if !in.Time.IsZero() {
		opts = append(opts, rego.EvalTime(in.Time))
	}
	rs, err := p.decision.Eval(ctx, opts...)
	if err != nil {
		return Decision{}, false, fmt.Errorf("decide: %w", err)
	}
	d, err := decisionFrom(rs)
	if err != nil {
		return Decision{}, false, fmt.Errorf("decide: %w", err)
	}
	d.PolicyRevision = p.revision
	return d, len(nd) > 0, nil
}

func decisionFrom(rs rego.ResultSet) (Decision, error) {
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{}, fmt.Errorf("%w: %d results", ErrMalformedResult, len(rs))
	}
	obj, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return Decision{}, fmt.Errorf("%w: not an object", ErrMalformedResult)
	}
	allow, ok := obj["allow"].(bool)
	if !ok {
		return Decision{}, fmt.Errorf("%w: allow is not a boolean", ErrMalformedResult)
	}
	list, ok := obj["reasons"].([]any)
	if !ok || len(list) == 0 {
		return Decision{}, fmt.Errorf("%w: reasons missing", ErrMalformedResult)
	}
	d := Decision{Allow: allow, Reasons: make([]Reason, 0, len(list))}
	for _, item := range list {
		r, ok := item.(map[string]any)
		code, _ := r["code"].(string)
		msg, _ := r["message"].(string)
		if !ok || code == "" {
			return Decision{}, fmt.Errorf("%w: reason without a code", ErrMalformedResult)
		}
		d.Reasons = append(d.Reasons, Reason{Code: code, Message: msg})
	}
	return d, nil
}
