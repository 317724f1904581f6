// Package engine evaluates rolegate's Rego policy through OPA used as a library. It
// knows nothing of HTTP or of where memberships live: callers hand it every fact.
package engine

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	opabundle "github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/rolegate/rolegate/internal/route"
)

// DecisionRule is the rule that answers a decision, as a data path.
const DecisionRule = "rolegate/authz/decision"

const (
	decisionQuery = "data.rolegate.authz.decision"
	modelQuery    = "data.rolegate.model"
)

// Policy is one compiled policy revision with its queries prepared. It is immutable
// and safe for concurrent use.
type Policy struct {
	revision string
	model    *Model
	routes   *route.Table
	compiler *ast.Compiler
	store    storage.Store
	decision rego.PreparedEvalQuery
	cache    *decisionCache
}

// CompileOption tunes Compile.
type CompileOption func(*compileOptions)

type compileOptions struct {
	cacheSize int
}

// WithDecisionCache sets how many decisions the policy remembers; 0 turns the cache
// off. The default is DefaultDecisionCacheSize.
func WithDecisionCache(size int) CompileOption {
	return func(o *compileOptions) { o.cacheSize = size }
}

// Compile compiles the bundle's policy (test modules excluded), prepares its queries
// and reads its role model and route table. Any failure is an error and no Policy is
// returned.
func Compile(ctx context.Context, b *opabundle.Bundle, opts ...CompileOption) (*Policy, error) {
	o := compileOptions{cacheSize: DefaultDecisionCacheSize}
	for _, opt := range opts {
		opt(&o)
	}
	modules := make(map[string]*ast.Module, len(b.Modules))
	for _, mf := range b.Modules {
		if strings.HasSuffix(mf.Path, "_test.rego") {
			continue
		}
		modules[mf.Path] = mf.Parsed
	}
	compiler := ast.NewCompiler().WithEnablePrintStatements(false)
	if compiler.Compile(modules); compiler.Failed() {
		return nil, fmt.Errorf("compile policy: %w", compiler.Errors)
	}

	p := &Policy{
		revision: b.Manifest.Revision,
		compiler: compiler,
		store:    inmem.NewFromObjectWithOpts(b.Data, inmem.OptRoundTripOnWrite(false)),
		cache:    newDecisionCache(o.cacheSize),
	}
	var err error
	if p.decision, err = p.prepare(ctx, decisionQuery); err != nil {
		return nil, err
	}
	if p.model, err = p.readModel(ctx); err != nil {
		return nil, err
	}
	if p.routes, err = p.readRoutes(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Policy) prepare(ctx context.Context, query string) (rego.PreparedEvalQuery, error) {
	pq, err := rego.New(
		rego.Query(query),
		rego.Compiler(p.compiler),
		rego.Store(p.store),
	).PrepareForEval(ctx)
	if err != nil {
		return pq, fmt.Errorf("prepare %s: %w", query, err)
	}
	return pq, nil
}

// Revision identifies the policy; it is the bundle's manifest revision.
func (p *Policy) Revision() string { return p.revision }

// Model returns the roles and operations the policy declares.
func (p *Policy) Model() *Model { return p.model }

// Routes returns the policy's route table (rolegate.routes), compiled for matching;
// it is empty when the policy has none.
func (p *Policy) Routes() *route.Table { return p.routes }

// Engine holds the active policy and the time after which it is stale. Activating a
// new one is a single atomic step: a decision that already took the old policy
// finishes on it. Reading both the policy and its stale time is one atomic load, so
// the freshness guard costs the decision path nothing more.
type Engine struct {
	active atomic.Pointer[activation]
}

// activation is one immutable pairing of a policy with its stale time.
type activation struct {
	policy  *Policy
	staleAt time.Time // zero: never stale
}

// New returns an engine with p active and never stale; p may be nil when no policy
// is loaded yet.
func New(p *Policy) *Engine {
	e := &Engine{}
	if p != nil {
		e.Activate(p)
	}
	return e
}

// Policy returns the active policy, or nil when none has been activated.
func (e *Engine) Policy() *Policy {
	p, _ := e.Active()
	return p
}

// Active returns the active policy (nil when none) and the time after which it is
// stale (zero when it never is), as one consistent pair.
func (e *Engine) Active() (*Policy, time.Time) {
	a := e.active.Load()
	if a == nil {
		return nil, time.Time{}
	}
	return a.policy, a.staleAt
}

// Activate makes p the active policy, never stale.
func (e *Engine) Activate(p *Policy) { e.ActivateUntil(p, time.Time{}) }

// ActivateUntil makes p the active policy, stale after staleAt (zero: never).
func (e *Engine) ActivateUntil(p *Policy, staleAt time.Time) {
	e.active.Store(&activation{policy: p, staleAt: staleAt})
}

// Renew moves the stale time of p to staleAt, when p is still the active policy; it
// reports whether it was.
func (e *Engine) Renew(p *Policy, staleAt time.Time) bool {
	for {
		cur := e.active.Load()
		if cur == nil || cur.policy != p {
			return false
		}
		if e.active.CompareAndSwap(cur, &activation{policy: p, staleAt: staleAt}) {
			return true
		}
	}
}
