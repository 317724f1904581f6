package replay

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/decisionlog"
	"github.com/rolegate/rolegate/internal/engine"
)

// RoleNone is the role of a subject with no membership in the resource's workspace
// nor in its tenant.
const RoleNone = "none"

// Group is the changed decisions of one operation and one role of the subject.
type Group struct {
	Operation   string `json:"operation"`
	Role        string `json:"role"`
	AllowToDeny int    `json:"allow_to_deny"`
	DenyToAllow int    `json:"deny_to_allow"`
	// Examples are the group's earliest changes in the log.
	Examples []Change `json:"examples"`
}

func (g *Group) add(o *Group) {
	g.AllowToDeny += o.AllowToDeny
	g.DenyToAllow += o.DenyToAllow
	g.Examples = append(g.Examples, o.Examples...)
}

func compareGroups(a, b *Group) int {
	return cmp.Or(cmp.Compare(a.Operation, b.Operation), cmp.Compare(a.Role, b.Role))
}

// Change is one decision whose answer changes.
type Change struct {
	// Line is the decision's line in the log.
	Line       int            `json:"line"`
	DecisionID string         `json:"decision_id"`
	Time       time.Time      `json:"time"`
	Subject    string         `json:"subject"`
	Resource   authz.Resource `json:"resource"`
	Was        Outcome        `json:"was"`
	Now        Outcome        `json:"now"`
}

// Outcome is an answer with its reason codes. Only the candidate's has messages: the
// log keeps codes only.
type Outcome struct {
	Allow    bool     `json:"allow"`
	Reasons  []string `json:"reasons"`
	Messages []string `json:"messages,omitempty"`
}

// Role returns the role of the subject's membership in the resource's workspace, else
// in the workspace's tenant, else RoleNone, whatever the membership's status.
func Role(e *decisionlog.Entry) string {
	var tenant, inTenant string
	if w := e.Facts.Workspace; w != nil {
		tenant = w.Tenant
	}
	for _, m := range e.Facts.Memberships {
		switch {
		case m.Workspace == e.Resource.Workspace:
			return m.Role
		case tenant != "" && m.Workspace == tenant:
			inTenant = m.Role
		}
	}
	return cmp.Or(inTenant, RoleNone)
}

type groupKey struct{ operation, role string }

// tally is one worker's count of what it replayed.
type tally struct {
	examples       int
	replayed       int
	reasonsChanged int
	groups         map[groupKey]*Group
}

// work replays the entries from jobs until it is closed or one cannot be replayed,
// which cancels the replay.
func (t *tally) work(ctx context.Context, cancel context.CancelCauseFunc, p *engine.Policy,
	jobs <-chan decisionlog.Entry,
) {
	for e := range jobs {
		if err := t.replay(ctx, p, &e); err != nil {
			cancel(err)
			return
		}
	}
}

func (t *tally) replay(ctx context.Context, p *engine.Policy, e *decisionlog.Entry) error {
	d, err := p.Decide(ctx, e.Input())
	if err != nil {
		return fmt.Errorf("line %d: decision %s: %w", e.Line, e.DecisionID, err)
	}
	t.replayed++
	if d.Allow == e.Allow {
		if !sameCodes(e.Reasons, d.Reasons) {
			t.reasonsChanged++
		}
		return nil
	}

	k := groupKey{e.Action, Role(e)}
	g := t.groups[k]
	if g == nil {
		g = &Group{Operation: k.operation, Role: k.role}
		t.groups[k] = g
	}
	if e.Allow {
		g.AllowToDeny++
	} else {
		g.DenyToAllow++
	}
	// A worker's entries come in log order, so its first changes are its earliest.
	if len(g.Examples) < t.examples {
		g.Examples = append(g.Examples, changeOf(e, &d))
	}
	return nil
}

func changeOf(e *decisionlog.Entry, d *engine.Decision) Change {
	now := Outcome{Allow: d.Allow}
	for _, r := range d.Reasons {
		now.Reasons = append(now.Reasons, r.Code)
		now.Messages = append(now.Messages, r.Message)
	}
	return Change{
		Line: e.Line, DecisionID: e.DecisionID, Time: e.Time, Subject: e.Subject,
		Resource: e.Resource, Was: Outcome{Allow: e.Allow, Reasons: e.Reasons}, Now: now,
	}
}

// sameCodes reports whether the logged codes and the new reasons' codes are the same,
// in any order.
func sameCodes(logged []string, reasons []engine.Reason) bool {
	if len(logged) != len(reasons) {
		return false
	}
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = r.Code
	}
	slices.Sort(codes)
	return slices.Equal(slices.Sorted(slices.Values(logged)), codes)
}
