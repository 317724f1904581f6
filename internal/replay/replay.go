// Package replay evaluates logged decisions again, against a candidate policy, with
// the facts and the evaluation time each was made with, and reports the decisions
// whose answer would change. It is the check a policy author runs before publishing.
package replay

import (
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/decisionlog"
	"github.com/rolegate/rolegate/internal/engine"
)

// DefaultExamples is how many example changes a group keeps unless told otherwise.
const DefaultExamples = 3

// notByPolicy are the reason codes of decisions the service made without the policy:
// an outage, membership data older than the caller asked for, a stale policy. They
// carry no facts, so replaying them would compare the candidate with an empty world.
var notByPolicy = []string{
	authz.CodeMembershipUnavailable, authz.CodePolicyUnavailable, authz.CodePolicyError,
	authz.CodeStaleMembership, authz.CodePolicyStale,
}

// Options configures a replay.
type Options struct {
	// Examples is how many example changes each group keeps, the earliest in the log:
	// DefaultExamples when zero, none when negative.
	Examples int
	// Workers is how many decisions are evaluated at once: GOMAXPROCS when zero.
	Workers int
}

func (o Options) examples() int {
	if o.Examples == 0 {
		return DefaultExamples
	}
	return max(o.Examples, 0)
}

func (o Options) workers() int {
	if o.Workers <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return o.Workers
}

// Report is what a replay found. Counts are of decisions.
type Report struct {
	// Candidate is the revision of the policy the decisions were replayed against.
	Candidate string `json:"candidate"`
	// Decisions is how many decisions the log holds, made between First and Last;
	// Logged counts them by the revision of the policy that was active, if any.
	// OtherLines is how many lines were not decisions.
	Decisions  int            `json:"decisions"`
	Logged     map[string]int `json:"logged"`
	First      time.Time      `json:"first,omitzero"`
	Last       time.Time      `json:"last,omitzero"`
	OtherLines int            `json:"other_lines"`
	// Skipped counts by reason code the decisions the policy did not make; they are
	// not replayed.
	Skipped  map[string]int `json:"skipped"`
	Replayed int            `json:"replayed"`
	// Changed is AllowToDeny plus DenyToAllow: the decisions whose answer changes.
	Changed     int `json:"changed"`
	AllowToDeny int `json:"allow_to_deny"`
	DenyToAllow int `json:"deny_to_allow"`
	// ReasonsChanged counts the decisions with the same answer for other reasons.
	ReasonsChanged int `json:"reasons_changed"`
	// Groups are the changes by operation and the subject's role, sorted by both.
	Groups []*Group `json:"groups"`
}

// Run replays every decision of the log against the candidate policy. A malformed
// decision line, an unreadable log or a decision the candidate cannot evaluate stop
// the replay with an error naming the line.
func Run(ctx context.Context, log io.Reader, candidate *engine.Policy, opts Options) (*Report, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	jobs := make(chan decisionlog.Entry, 256)
	tallies := make([]*tally, opts.workers())
	var wg sync.WaitGroup
	for i := range tallies {
		t := &tally{examples: opts.examples(), groups: make(map[groupKey]*Group)}
		tallies[i] = t
		wg.Go(func() { t.work(ctx, cancel, candidate, jobs) })
	}

	rep := &Report{Candidate: candidate.Revision(), Logged: map[string]int{}, Skipped: map[string]int{}}
	err := rep.read(ctx, decisionlog.NewReader(log), jobs)
	close(jobs)
	wg.Wait()
	if err == nil {
		err = context.Cause(ctx)
	}
	if err != nil {
		return nil, err
	}
	rep.merge(tallies, opts.examples())
	return rep, nil
}

// read sends the log's decisions made by the policy to jobs and counts the rest.
func (rep *Report) read(ctx context.Context, r *decisionlog.Reader, jobs chan<- decisionlog.Entry) error {
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			rep.OtherLines = r.Other()
			return nil
		}
		if err != nil {
			return err
		}

		rep.count(&e)
		if i := slices.IndexFunc(e.Reasons, isNotByPolicy); i >= 0 {
			rep.Skipped[e.Reasons[i]]++
			continue
		}
		select {
		case jobs <- e:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

func isNotByPolicy(code string) bool { return slices.Contains(notByPolicy, code) }

func (rep *Report) count(e *decisionlog.Entry) {
	rep.Decisions++
	if e.Revision.Policy != "" {
		rep.Logged[e.Revision.Policy]++
	}
	if rep.First.IsZero() || e.Time.Before(rep.First) {
		rep.First = e.Time
	}
	if e.Time.After(rep.Last) {
		rep.Last = e.Time
	}
}

// merge adds up the workers' tallies; the result does not depend on which worker
// replayed which decision.
func (rep *Report) merge(tallies []*tally, examples int) {
	groups := make(map[groupKey]*Group)
	for _, t := range tallies {
		rep.Replayed += t.replayed
		rep.ReasonsChanged += t.reasonsChanged
		for k, g := range t.groups {
			if m := groups[k]; m != nil {
				m.add(g)
			} else {
				groups[k] = g
			}
		}
	}
	for _, g := range groups {
		slices.SortFunc(g.Examples, func(a, b Change) int { return a.Line - b.Line })
		g.Examples = g.Examples[:min(examples, len(g.Examples))]
		rep.AllowToDeny += g.AllowToDeny
		rep.DenyToAllow += g.DenyToAllow
		rep.Groups = append(rep.Groups, g)
	}
	rep.Changed = rep.AllowToDeny + rep.DenyToAllow
	slices.SortFunc(rep.Groups, compareGroups)
}
