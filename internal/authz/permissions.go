package authz

import (
	"context"
	"errors"

	"github.com/rolegate/rolegate/internal/engine"
)

// Permission is one operation a subject may perform, with why.
type Permission struct {
	Action  string
	Reasons []engine.Reason
}

// Permissions is what a subject may do in a workspace.
type Permissions struct {
	// Allowed are the operations the subject may perform as asked: in the workspace,
	// on the mini program when one was named, without further attributes.
	Allowed []Permission
	// Conditional are operations a membership grants but only given facts about the
	// resource that were not stated (a mini program id, a request's submitter or
	// state, ...); their reasons say which.
	Conditional []Permission
	// MiniPrograms are the mini programs assigned to the subject in the workspace.
	MiniPrograms       []string
	PolicyRevision     string
	MembershipRevision uint64
}

// conditionCodes are the reasons that mean "allowed, given the missing facts".
var conditionCodes = map[string]bool{"missing_attribute": true, "resource_id_required": true}

// Permissions evaluates every operation of the policy for the subject in the
// workspace (and on mini program id, when not empty), from one reading of the facts.
// It records no decisions: it is a listing, not an access check.
func (s *Service) Permissions(ctx context.Context, subject, workspace, id string) (*Permissions, error) {
	p := s.engine.Policy()
	if p == nil {
		return nil, errors.New("no policy is active")
	}
	req := &Request{Subject: subject, Action: "workspace:view", Resource: Resource{Workspace: workspace, ID: id}}
	facts, rev, err := s.facts(ctx, req)
	if err != nil {
		return nil, err
	}

	out := &Permissions{PolicyRevision: p.Revision(), MembershipRevision: rev}
	in := &engine.Input{
		Subject:  subject,
		Resource: engine.Resource{Workspace: workspace, ID: id},
		Facts:    facts,
		Time:     s.now(),
	}
	for _, op := range p.Model().OperationNames() {
		in.Action = op
		d, err := p.Decide(ctx, in)
		if err != nil {
			return nil, err
		}
		switch {
		case d.Allow:
			out.Allowed = append(out.Allowed, Permission{Action: op, Reasons: d.Reasons})
		case onlyConditions(d.Reasons):
			out.Conditional = append(out.Conditional, Permission{Action: op, Reasons: d.Reasons})
		}
	}
	for _, m := range facts.Memberships {
		if m.Workspace == workspace {
			out.MiniPrograms = m.MiniPrograms
		}
	}
	return out, nil
}

func onlyConditions(reasons []engine.Reason) bool {
	for _, r := range reasons {
		if !conditionCodes[r.Code] {
			return false
		}
	}
	return len(reasons) > 0
}
