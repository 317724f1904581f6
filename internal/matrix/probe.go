package matrix

import (
	"context"
	"fmt"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
)

// The probing world: a tenant, one of its merchants, a member and someone else.
const (
	probeTenant   = "tw-probe"
	probeMerchant = "dw-probe"
	probeSubject  = "u-probe"
	probeOther    = "u-other"
	mpAssigned    = "mp-assigned"
	mpOther       = "mp-other"
)

// Probe finds the scope a role has for an operation by asking the policy, from the
// widest scope down:
//   - ✓+  allowed in a merchant's developer workspace of the member's tenant;
//   - ✓   allowed on an unassigned mini program, on someone else's request;
//   - A   allowed on an assigned mini program only;
//   - own allowed on the member's own request only;
//   - ×   none of these.
//
// Each situation states the attributes that the rules beyond the table need to pass
// (a request in review, nothing published, another member), so that the cell shows
// what the role grants rather than what a missing attribute forbids.
func Probe(ctx context.Context, p *engine.Policy, role, wsType, op string) (Scope, error) {
	home := probeTenant
	if wsType == membership.TypeDeveloper {
		home = probeMerchant
	}
	steps := []struct {
		scope     Scope
		workspace string
		id        string
		submitter string
	}{
		{Merchants, probeMerchant, mpOther, probeOther},
		{Any, home, mpOther, probeOther},
		{Assigned, home, mpAssigned, probeOther},
		{Own, home, mpAssigned, probeSubject},
	}
	for _, s := range steps {
		if wsType == membership.TypeDeveloper && s.scope == Merchants {
			continue
		}
		in := probeInput(role, home, op, s.workspace, s.id, s.submitter)
		d, err := p.Evaluate(ctx, in)
		if err != nil {
			return "", fmt.Errorf("probe %s %s: %w", role, op, err)
		}
		if d.Allow {
			return s.scope, nil
		}
	}
	return Denied, nil
}

func probeInput(role, home, op, workspace, id, submitter string) *engine.Input {
	ws := map[string]membership.Workspace{
		probeTenant:   {ID: probeTenant, Type: membership.TypeTenant},
		probeMerchant: {ID: probeMerchant, Type: membership.TypeDeveloper, Tenant: probeTenant},
	}[workspace]
	return &engine.Input{
		Subject: probeSubject,
		Action:  op,
		Resource: engine.Resource{
			Workspace: workspace,
			ID:        id,
			Attributes: map[string]any{
				"submitter":              submitter,
				"state":                  "in_review",
				"published_miniprograms": 0,
				"member":                 probeOther,
			},
		},
		Facts: engine.Facts{
			Workspace: &ws,
			Memberships: []membership.Membership{{
				User: probeSubject, Workspace: home, Role: role,
				Status: membership.StatusActive, MiniPrograms: []string{mpAssigned},
			}},
		},
	}
}
