package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/rolegate/rolegate/internal/route"
)

const routesQuery = "data.rolegate.routes"

// routeTable is the policy's rolegate.routes package as data.
type routeTable struct {
	// Routes maps "METHOD /template" to an operation.
	Routes map[string]string `json:"routes"`
	// GatewayChecks maps an operation to the one a gateway asks about instead.
	GatewayChecks map[string]string `json:"gateway_checks"`
}

// readRoutes reads and compiles the route table. A policy without one has an empty
// table, and a gateway then denies every request (no_route).
func (p *Policy) readRoutes(ctx context.Context) (*route.Table, error) {
	pq, err := p.prepare(ctx, routesQuery)
	if err != nil {
		return nil, err
	}
	rs, err := pq.Eval(ctx)
	if err != nil {
		return nil, fmt.Errorf("read route table: %w", err)
	}
	var rt routeTable
	if len(rs) == 1 {
		raw, err := json.Marshal(rs[0].Expressions[0].Value)
		if err == nil {
			err = json.Unmarshal(raw, &rt)
		}
		if err != nil {
			return nil, fmt.Errorf("read route table: %w", err)
		}
	}
	routes, err := rt.resolve(p.model)
	if err == nil {
		var t *route.Table
		if t, err = route.New(routes); err == nil {
			return t, nil
		}
	}
	return nil, fmt.Errorf("route table: %w", err)
}

// resolve turns the table into routes, checking every operation against the model
// and reporting every problem at once.
func (rt *routeTable) resolve(m *Model) ([]route.Route, error) {
	var errs []error
	for _, op := range slices.Sorted(maps.Keys(rt.GatewayChecks)) {
		check := rt.GatewayChecks[op]
		for _, name := range []string{op, check} {
			if _, ok := m.Operations[name]; !ok {
				errs = append(errs, fmt.Errorf("gateway check %s → %s: unknown operation %q", op, check, name))
			}
		}
	}
	routes := make([]route.Route, 0, len(rt.Routes))
	for _, key := range slices.Sorted(maps.Keys(rt.Routes)) {
		op := rt.Routes[key]
		method, template, ok := strings.Cut(key, " ")
		if !ok {
			errs = append(errs, fmt.Errorf("route %q is not \"METHOD /template\"", key))
			continue
		}
		if _, known := m.Operations[op]; !known {
			errs = append(errs, fmt.Errorf("route %s: unknown operation %q", key, op))
			continue
		}
		routes = append(routes, route.Route{
			Method: method, Template: template, Operation: op, Check: rt.GatewayChecks[op],
		})
	}
	return routes, errors.Join(errs...)
}
