package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/go-json-experiment/json"

	"github.com/rolegate/rolegate/internal/membership"
)

// Scope names, as the policy's role model uses them.
const (
	ScopeWorkspace = "workspace"
	ScopeAssigned  = "assigned"
	ScopeMerchants = "merchants"
	ScopeOwn       = "own"
)

// Model is the policy's declaration of roles and operations (rolegate.model).
type Model struct {
	Roles      map[string]Role      `json:"roles"`
	Operations map[string]Operation `json:"operations"`
	Conditions []string             `json:"conditions"`
}

// Role is one role of the model.
type Role struct {
	ID            string `json:"-"`
	Title         string `json:"title"`
	WorkspaceType string `json:"workspace_type"`
	// Grants maps each operation the role grants to its scope.
	Grants map[string]string `json:"grants"`
}

// Operation is one operation of the model.
type Operation struct {
	Conditions []string `json:"conditions"`
	// Lists means an assigned-scope grant allows the operation without a resource id.
	Lists bool `json:"lists"`
}

func (p *Policy) readModel(ctx context.Context) (*Model, error) {
	pq, err := p.prepare(ctx, modelQuery)
	if err != nil {
		return nil, err
	}
	rs, err := pq.Eval(ctx)
	if err != nil || len(rs) != 1 {
		return nil, fmt.Errorf("read role model: %d results: %v", len(rs), err)
	}
	raw, err := json.Marshal(rs[0].Expressions[0].Value)
	if err != nil {
		return nil, fmt.Errorf("read role model: %w", err)
	}
	var m Model
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("read role model: %w", err)
	}
	for id, r := range m.Roles {
		r.ID = id
		m.Roles[id] = r
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("role model: %w", err)
	}
	return &m, nil
}

func (m *Model) validate() error {
	var errs []error
	for _, r := range m.Roles {
		if r.WorkspaceType != membership.TypeTenant && r.WorkspaceType != membership.TypeDeveloper {
			errs = append(errs, fmt.Errorf("role %s: workspace type %q is not known", r.ID, r.WorkspaceType))
		}
		for op, scope := range r.Grants {
			if _, ok := m.Operations[op]; !ok {
				errs = append(errs, fmt.Errorf("role %s grants unknown operation %q", r.ID, op))
			}
			switch scope {
			case ScopeWorkspace, ScopeAssigned, ScopeMerchants, ScopeOwn:
			default:
				errs = append(errs, fmt.Errorf("role %s: %s has unknown scope %q", r.ID, op, scope))
			}
		}
	}
	for name, op := range m.Operations {
		for _, c := range op.Conditions {
			if !slices.Contains(m.Conditions, c) {
				errs = append(errs, fmt.Errorf("operation %s: condition %q is not known", name, c))
			}
		}
	}
	return errors.Join(errs...)
}

// RoleTypes maps each role to the workspace type it belongs to.
func (m *Model) RoleTypes() membership.Roles {
	roles := make(membership.Roles, len(m.Roles))
	for id, r := range m.Roles {
		roles[id] = r.WorkspaceType
	}
	return roles
}

// RolesOf returns the roles of a workspace type, those with the most grants (the
// admins) first.
func (m *Model) RolesOf(workspaceType string) []Role {
	var roles []Role
	for _, r := range m.Roles {
		if r.WorkspaceType == workspaceType {
			roles = append(roles, r)
		}
	}
	slices.SortFunc(roles, func(a, b Role) int {
		return cmp.Or(cmp.Compare(len(b.Grants), len(a.Grants)), cmp.Compare(a.ID, b.ID))
	})
	return roles
}

// OperationNames returns every operation in name order.
func (m *Model) OperationNames() []string {
	names := make([]string, 0, len(m.Operations))
	for name := range m.Operations {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
