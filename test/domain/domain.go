// Package domain holds the role matrix of the domain specification as test data and
// turns it into decision cases: every cell, in each situation that matters, with the
// answer the specification expects. The policy, API and bundle tests all share it, so
// none of them can drift from the specification.
package domain

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed testdata/matrix.md
var matrixMD string

// Roles are the seven roles in the column order of the specification's table.
var Roles = []string{
	"workspace_admin", "workspace_reviewer", "workspace_developer", "workspace_operator",
	"developer_admin", "developer", "operator",
}

// TenantRoles are the roles that belong in tenant workspaces.
var TenantRoles = map[string]bool{
	"workspace_admin": true, "workspace_reviewer": true,
	"workspace_developer": true, "workspace_operator": true,
}

// Scope symbols, as the specification writes them.
const (
	Any       = "✓"
	Assigned  = "A"
	Merchants = "✓+"
	Own       = "own"
	Denied    = "×"
)

// Matrix returns the specification's table: operation, then role, to a scope symbol.
func Matrix() (map[string]map[string]string, error) {
	m := make(map[string]map[string]string)
	for i, line := range strings.Split(matrixMD, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != len(Roles)+1 {
			return nil, fmt.Errorf("matrix.md line %d: %d cells", i+1, len(cells))
		}
		for _, op := range expandOperations(cells[0]) {
			m[op] = make(map[string]string, len(Roles))
			for j, role := range Roles {
				m[op][role] = strings.Trim(cells[j+1], "*")
			}
		}
	}
	return m, nil
}

// expandOperations turns "`a:b`, `:c`" into a:b and a:c.
func expandOperations(cell string) []string {
	var ops []string
	var resource string
	for _, part := range strings.Split(cell, ", ") {
		op := strings.Trim(part, "`")
		if strings.HasPrefix(op, ":") {
			op = resource + op
		} else {
			resource, _, _ = strings.Cut(op, ":")
		}
		ops = append(ops, op)
	}
	return ops
}
