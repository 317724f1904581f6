// Package concurrency_test runs decisions, membership writes, Redis invalidations and
// policy swaps all at once, under the race detector in make test, and checks every
// answer against what the facts and the policy allowed at the time.
package concurrency_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/members"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/redis"
	"github.com/rolegate/rolegate/internal/policy"
	"github.com/rolegate/rolegate/internal/source"
	"github.com/rolegate/rolegate/policies"
	"github.com/rolegate/rolegate/test/redistest"
)

// Everything runs at once for runFor, and on until u-flip has been written minFlips
// times, for at most maxRun on a machine too loaded to get there sooner.
const (
	runFor   = 2 * time.Second
	minFlips = 10
	maxRun   = 15 * time.Second
)

// The world: one developer workspace whose admins write while its operators are
// decided on. u-flip is blocked and unblocked over and over; the noise members'
// roles change over and over.
const (
	workspace = "dw-x"
	flip      = "u-flip"
	admin     = "u-admin"
	admin2    = "u-admin2"
	mp        = "mp-1"
	// viewOp is granted to an active operator by both policies; uploadOp only by
	// the second.
	viewOp   = "miniprogram:view"
	uploadOp = "miniprogram.version:upload"
)

var noise = []string{"u-noise-0", "u-noise-1", "u-noise-2"}

func world() *membership.Data {
	d := &membership.Data{
		Workspaces: []membership.Workspace{
			{ID: "tw-x", Type: membership.TypeTenant},
			{ID: workspace, Type: membership.TypeDeveloper, Tenant: "tw-x"},
		},
		Memberships: []membership.Membership{
			{User: admin, Workspace: workspace, Role: "developer_admin", Status: membership.StatusActive},
			{User: admin2, Workspace: workspace, Role: "developer_admin", Status: membership.StatusActive},
			{
				User: flip, Workspace: workspace, Role: "operator", Status: membership.StatusActive,
				MiniPrograms: []string{mp},
			},
		},
	}
	for _, u := range noise {
		d.Memberships = append(d.Memberships, membership.Membership{
			User: u, Workspace: workspace, Role: "operator", Status: membership.StatusActive,
			MiniPrograms: []string{mp},
		})
	}
	return d
}

// write is one acknowledged write of u-flip's status.
type write struct {
	start  time.Time
	rev    uint64
	active bool
}

// observation is one decision about u-flip and when it was made.
type observation struct {
	op       string
	atLeast  uint64 // the consistency asked for; 0 for none
	replica  string
	end      time.Time
	decision authz.Decision
}

// TestEverythingAtOnce runs, for runFor, two replicas over one real redis-server:
// replica A's policy comes from a policy directory that is rewritten and reloaded
// between two revisions, replica B's is swapped by activating the two compiled
// revisions in turn; admins block and unblock u-flip through A's membership lifecycle
// and change the noise members' roles through B's, while deciders on both replicas
// ask about u-flip, some with the consistency token of the last write. Every answer
// must name a policy revision that existed and a membership revision that existed
// when it was given, at least the one asked for; it must be what the policy it names
// answers for u-flip's status at some revision it could have read: never an allow
// while u-flip was blocked at all of them, never a denial while it was active at all
// of them (a near cache stuck on either fact fails); errors must be denials.
func TestEverythingAtOnce(t *testing.T) {
	r := newRig(t)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var writes, noiseWrites []write
	var lastAcked atomic.Uint64
	wg.Go(func() { writes = r.flipWrites(t, &stop, &lastAcked) })
	wg.Go(func() { noiseWrites = r.noiseWrites(t, &stop) })
	wg.Go(func() { r.reloadSource(t, &stop) })
	wg.Go(func() { r.swapEngine(&stop) })
	seen := make([][]observation, 4)
	for i := range seen {
		wg.Go(func() { seen[i] = r.decide(i, &stop, &lastAcked) })
	}
	for start := time.Now(); time.Since(start) < runFor || (r.flips.Load() < minFlips && time.Since(start) < maxRun); {
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()

	var all []observation
	for _, s := range seen {
		all = append(all, s...)
	}
	c := r.check(t, all, writes, append(slices.Clone(writes), noiseWrites...))
	t.Logf("%d decisions (%d allowed, %d denied while blocked, %d uploads allowed on the second policy, "+
		"%d fail-closed); %d writes of u-flip and %d of noise; %d source reloads, %d engine swaps; "+
		"B applied %d invalidations: %d violations",
		len(all), c.allowed, c.deniedBlocked, c.uploads, c.failClosed, len(writes), len(noiseWrites),
		r.source.Stats().Activations, r.swaps.Load(), r.storeB.Stats().Invalidations, c.violations)
	c.meaningful(t, len(writes))
}

// rig is the two replicas and what the test knows of them.
type rig struct {
	storeA, storeB *redis.Store
	svcA, svcB     *authz.Service
	engA, engB     *engine.Engine
	membersA       *members.Manager
	membersB       *members.Manager
	source         *source.Manager
	dir            string
	// policies are the two revisions: the shipped policy and one granting uploadOp
	// to operators; sources their model.rego.
	policies   [2]*engine.Policy
	sources    [2][]byte
	initialRev uint64
	// flips counts u-flip's acknowledged writes; swaps B's activations.
	flips, swaps atomic.Int64
}

func newRig(t *testing.T) *rig {
	t.Helper()
	srv := redistest.Start(t, redistest.Options{})
	r := &rig{dir: t.TempDir()}
	r.storeA, r.storeB = openStore(t, srv.URL()), openStore(t, srv.URL())
	rev, err := r.storeA.Import(context.Background(), world(), true)
	if err != nil {
		t.Fatal(err)
	}
	r.initialRev = rev
	for _, s := range []*redis.Store{r.storeA, r.storeB} {
		if err := s.Sync(context.Background(), rev); err != nil {
			t.Fatal(err)
		}
	}
	r.preparePolicies(t)
	r.engA, r.engB = engine.New(nil), engine.New(r.policies[0])
	if r.source, err = source.New(source.Config{Directory: r.dir}, r.engA, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.source.Stop)
	if err := r.source.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.svcA, r.svcB = authz.NewService(r.engA, r.storeA), authz.NewService(r.engB, r.storeB)
	r.membersA, r.membersB = members.New(r.storeA, r.svcA, nil), members.New(r.storeB, r.svcB, nil)
	return r
}

func openStore(t *testing.T, url string) *redis.Store {
	t.Helper()
	cfg := redis.DefaultConfig()
	cfg.URL, cfg.Namespace = url, "concurrency"
	cfg.LookupTimeout, cfg.ReadTimeout, cfg.WriteTimeout = 5*time.Second, 5*time.Second, 5*time.Second
	s, err := redis.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for !s.Stats().Subscribed {
		if time.Now().After(deadline) {
			t.Fatal("the store did not subscribe to invalidations in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
	return s
}

// preparePolicies writes the policy directory, and compiles both revisions from it.
func (r *rig) preparePolicies(t *testing.T) {
	t.Helper()
	err := fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") || policy.IsTest(path) {
			return err
		}
		data, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(r.dir, filepath.Dir(path)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(r.dir, path), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile(r.modelPath())
	if err != nil {
		t.Fatal(err)
	}
	r.sources = [2][]byte{shipped, grantUpload(t, shipped)}
	for i := range r.sources {
		if err := r.writeModel(i); err != nil {
			t.Fatal(err)
		}
		b, err := policy.Load(r.dir)
		if err != nil {
			t.Fatal(err)
		}
		if r.policies[i], err = engine.Compile(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if r.policies[0].Revision() == r.policies[1].Revision() {
		t.Fatal("the two policies have one revision")
	}
	if err := r.writeModel(0); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) modelPath() string { return filepath.Join(r.dir, "rolegate", "model", "model.rego") }

// writeModel replaces the directory's model.rego by revision i's, in one step.
func (r *rig) writeModel(i int) error {
	tmp := r.modelPath() + ".tmp"
	if err := os.WriteFile(tmp, r.sources[i], 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, r.modelPath())
}

// grantUpload returns the model with uploadOp granted to operators on their
// assigned mini programs.
func grantUpload(t *testing.T, model []byte) []byte {
	t.Helper()
	src := string(model)
	op := strings.Index(src, `"operator": {`)
	grants := strings.Index(src[op:], `"grants": {`)
	if op < 0 || grants < 0 {
		t.Fatal("model.rego has no operator grants")
	}
	at := op + grants + len(`"grants": {`)
	return []byte(src[:at] + "\n\t\t\t\"" + uploadOp + `": "assigned",` + src[at:])
}

// flipWrites blocks and unblocks u-flip through A until stop, and returns the writes
// with the revision each created.
func (r *rig) flipWrites(t *testing.T, stop *atomic.Bool, acked *atomic.Uint64) []write {
	var out []write
	ctx := context.Background()
	for active := true; !stop.Load(); active = !active {
		start := time.Now()
		step := r.membersA.Block
		if !active {
			step = r.membersA.Unblock
		}
		res, err := step(ctx, admin, workspace, flip)
		if err != nil {
			t.Errorf("write %d: %v", len(out), err)
			return out
		}
		out = append(out, write{start: start, rev: res.Revision, active: !active})
		acked.Store(res.Revision)
		r.flips.Add(1)
		time.Sleep(2 * time.Millisecond)
	}
	return out
}

// noiseWrites changes the noise members' roles through B until stop: more revisions,
// more invalidations, and writes racing the flips on the same workspace.
func (r *rig) noiseWrites(t *testing.T, stop *atomic.Bool) []write {
	var out []write
	roles := []string{"developer", "operator"}
	for i := 0; !stop.Load(); i++ {
		start := time.Now()
		res, err := r.membersB.AssignRole(context.Background(), admin2, workspace, noise[i%len(noise)],
			roles[(i/len(noise))%2], nil)
		if err != nil {
			t.Errorf("noise write %d: %v", i, err)
			return out
		}
		out = append(out, write{start: start, rev: res.Revision})
		time.Sleep(time.Millisecond)
	}
	return out
}

// reloadSource rewrites A's policy directory between the two revisions and reloads it.
func (r *rig) reloadSource(t *testing.T, stop *atomic.Bool) {
	for i := 1; !stop.Load(); i++ {
		if err := r.writeModel(i % 2); err != nil {
			t.Errorf("rewrite the policy: %v", err)
			return
		}
		if err := r.source.Refresh(context.Background()); err != nil {
			t.Errorf("reload %d: %v", i, err)
			return
		}
	}
}

// swapEngine activates B's two revisions in turn.
func (r *rig) swapEngine(stop *atomic.Bool) {
	for i := 1; !stop.Load(); i++ {
		r.engB.Activate(r.policies[i%2])
		r.swaps.Add(1)
		time.Sleep(time.Millisecond)
	}
}

// decide asks about u-flip until stop, on replica A or B by the decider's number,
// every third request with the consistency token of the last acknowledged write.
func (r *rig) decide(n int, stop *atomic.Bool, acked *atomic.Uint64) []observation {
	svc, replica := r.svcA, "A"
	if n%2 == 1 {
		svc, replica = r.svcB, "B"
	}
	var out []observation
	for i := 0; !stop.Load(); i++ {
		op := []string{viewOp, uploadOp}[i%2]
		req := &authz.Request{Subject: flip, Action: op, Resource: authz.Resource{Workspace: workspace, ID: mp}}
		var atLeast uint64
		if i%3 == 0 {
			if atLeast = acked.Load(); atLeast > 0 {
				req.Consistency = &authz.Consistency{AtLeast: fmt.Sprint(atLeast)}
			}
		}
		d := svc.Decide(context.Background(), req)
		out = append(out, observation{op: op, atLeast: atLeast, replica: replica, end: time.Now(), decision: d})
	}
	return out
}

// counts are what the decisions came to.
type counts struct {
	allowed, deniedBlocked, uploads, failClosed, violations int
	revisions                                               map[string]int
}

// violate reports a violation; past the tenth, only their number.
func (c *counts) violate(t *testing.T, format string, args ...any) {
	t.Helper()
	if c.violations++; c.violations <= 10 {
		t.Errorf(format, args...)
	}
}

// check holds every observation to the invariants (see TestEverythingAtOnce), given
// u-flip's writes and every write.
func (r *rig) check(t *testing.T, all []observation, flips, writes []write) counts {
	t.Helper()
	c := counts{revisions: map[string]int{}}
	known := map[string]bool{r.policies[0].Revision(): true, r.policies[1].Revision(): true}
	for _, o := range all {
		d := o.decision
		c.revisions[o.replica+" "+d.PolicyRevision]++
		if !known[d.PolicyRevision] {
			c.violate(t, "%s: policy revision %q never existed", describe(o), d.PolicyRevision)
		}
		if d.Err != nil {
			c.failClosed++
			if d.Allow || len(d.Reasons) == 0 || !slices.Contains(authz.FailureCodes, d.Reasons[0].Code) {
				c.violate(t, "%s: an error that is not a fail-closed denial: %v", describe(o), d.Err)
			}
			continue
		}
		upper := r.upperRevision(o.end, writes)
		if m := d.MembershipRevision; m < r.initialRev || m > upper {
			c.violate(t, "%s: membership revision %d had not been written (%d to %d existed)",
				describe(o), m, r.initialRev, upper)
		}
		if o.atLeast > d.MembershipRevision {
			c.violate(t, "%s: decided on revision %d, below the %d asked for", describe(o), d.MembershipRevision,
				o.atLeast)
		}
		r.checkAnswer(t, o, flips, upper, &c)
	}
	return c
}

// checkAnswer holds an answer to the oracle. u-flip's facts were read at a revision
// from the one the decision names up to the last one written before it ended; the
// answer must be what the policy it names says for u-flip's status at one of those:
// an allow needs u-flip active (and, for an upload, the second policy), a denial
// needs u-flip blocked (or, for an upload, the first policy).
func (r *rig) checkAnswer(t *testing.T, o observation, flips []write, upper uint64, c *counts) {
	t.Helper()
	d := o.decision
	active, blocked := statusesBetween(flips, d.MembershipRevision, upper)
	granting := o.op == viewOp || d.PolicyRevision == r.policies[1].Revision()
	switch {
	case d.Allow && (!active || !granting):
		c.violate(t, "%s: allowed, but u-flip was blocked at every revision from %d to %d, or the policy does not "+
			"grant it", describe(o), d.MembershipRevision, upper)
	case !d.Allow && granting && !blocked:
		c.violate(t, "%s: denied, but u-flip was active at every revision from %d to %d", describe(o),
			d.MembershipRevision, upper)
	case d.Allow:
		c.allowed++
		if o.op == uploadOp {
			c.uploads++
		}
	case granting:
		c.deniedBlocked++
	}
}

// upperRevision is the last revision that can have been read before end: that of the
// last write, of u-flip or of anyone, started before end. A revision read before end
// was committed before end, by a write that had started by then.
func (r *rig) upperRevision(end time.Time, writes []write) uint64 {
	upper := r.initialRev
	for _, w := range writes {
		if w.start.Before(end) {
			upper = max(upper, w.rev)
		}
	}
	return upper
}

// statusesBetween reports whether u-flip was active, and whether it was blocked, at
// some revision in [from, to]: active from the start, then as each write left it.
func statusesBetween(flips []write, from, to uint64) (active, blocked bool) {
	now := true
	for _, w := range flips {
		if w.rev > from {
			break
		}
		now = w.active
	}
	active, blocked = now, !now
	for _, w := range flips {
		if w.rev > from && w.rev <= to {
			active, blocked = active || w.active, blocked || !w.active
		}
	}
	return active, blocked
}

// meaningful fails the test when the run did not exercise what it checks.
func (c counts) meaningful(t *testing.T, flips int) {
	t.Helper()
	switch {
	case flips < minFlips:
		t.Errorf("only %d writes of u-flip in %v", flips, maxRun)
	case c.allowed == 0 || c.deniedBlocked == 0:
		t.Errorf("allowed %d, denied while blocked %d: the flips were not seen", c.allowed, c.deniedBlocked)
	case c.uploads == 0:
		t.Error("no upload was allowed: the second policy was never seen")
	}
	if len(c.revisions) < 4 {
		t.Errorf("decisions per replica and policy revision: %v, want both revisions on both replicas", c.revisions)
	}
}

func describe(o observation) string {
	d := o.decision
	return fmt.Sprintf("%s on %s (allow %v, policy %s, membership %d, reasons %v)",
		o.op, o.replica, d.Allow, d.PolicyRevision, d.MembershipRevision, d.Reasons)
}
