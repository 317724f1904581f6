// Package matrix computes the role × operation table of a policy by asking it
// decisions, not by reading its declarations: each cell's scope is what the policy
// does in a few probing situations.
package matrix

import (
	"context"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
)

// Scope is a cell of the matrix, written as in the domain table.
type Scope string

// The scopes a cell can show.
const (
	Any       Scope = "✓"   // any resource of the member's own workspace
	Assigned  Scope = "A"   // assigned mini programs only
	Merchants Scope = "✓+"  // own workspace and its merchants' developer workspaces
	Own       Scope = "own" // own requests only
	Denied    Scope = "×"
)

// ScopeInfo says what a scope symbol means, for readers of the matrix.
type ScopeInfo struct {
	Symbol  Scope  `json:"symbol"`
	Meaning string `json:"meaning"`
}

// Legend lists every scope a cell can show, in the order the legend reads.
var Legend = []ScopeInfo{
	{Any, "any resource of the member's workspace"},
	{Assigned, "assigned mini programs only"},
	{Merchants, "the workspace and its merchants' developer workspaces"},
	{Own, "the member's own requests"},
	{Denied, "denied"},
}

// Matrix is the permission table of one policy revision.
type Matrix struct {
	PolicyRevision string  `json:"policy_revision"`
	Tables         []Table `json:"workspace_types"`
}

// Table is the part of the matrix for one workspace type.
type Table struct {
	WorkspaceType string   `json:"workspace_type"`
	Roles         []string `json:"roles"`
	Titles        []string `json:"titles"`
	Operations    []string `json:"operations"`
	// Cells maps operation, then role, to the scope the policy grants.
	Cells map[string]map[string]Scope `json:"cells"`
}

// Compute evaluates the policy for every role and operation of its model.
func Compute(ctx context.Context, p *engine.Policy) (*Matrix, error) {
	m := &Matrix{PolicyRevision: p.Revision()}
	model := p.Model()
	for _, wsType := range []string{membership.TypeTenant, membership.TypeDeveloper} {
		t := Table{WorkspaceType: wsType, Operations: model.OperationNames(), Cells: map[string]map[string]Scope{}}
		for _, r := range model.RolesOf(wsType) {
			t.Roles = append(t.Roles, r.ID)
			t.Titles = append(t.Titles, r.Title)
		}
		for _, op := range t.Operations {
			t.Cells[op] = make(map[string]Scope, len(t.Roles))
			for _, role := range t.Roles {
				s, err := Probe(ctx, p, role, wsType, op)
				if err != nil {
					return nil, err
				}
				t.Cells[op][role] = s
			}
		}
		m.Tables = append(m.Tables, t)
	}
	return m, nil
}
