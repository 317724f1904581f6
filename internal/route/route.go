// Package route matches requests against the policy's route table: an HTTP method and
// a canonical path to the operation the request performs, with the values of the
// template's parameters. Matching walks a segment trie built once per policy and
// allocates nothing.
package route

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Parameters the gateway reads from a matched path.
const (
	// ParamWorkspace names the workspace the resource lives in; every route has it.
	ParamWorkspace = "workspace"
	// ParamID names the mini program the resource is or belongs to.
	ParamID = "id"
	// ParamMember names the user whose membership is acted on.
	ParamMember = "member"
)

// Methods are the methods a route may have. A HEAD request matches GET routes.
var Methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// Route is one entry of the route table.
type Route struct {
	Method string
	// Template is the path: literal segments and {parameters}, each one whole segment.
	Template string
	// Operation is what the request performs.
	Operation string
	// Check is the operation a gateway asks about: Operation, unless the policy's
	// gateway_checks names a coarser one whose conditions the gateway can answer.
	Check string

	params []string // by segment index; "" for a literal
}

// paramIndex returns the index of the segment that holds the parameter, or -1.
func (r *Route) paramIndex(name string) int {
	return slices.Index(r.params, name)
}

// Table is a compiled route table. It is immutable and safe for concurrent use.
type Table struct {
	root   *node
	routes []*Route
}

// New compiles routes into a table. It reports every malformed template and every
// pair of routes that one request could match, at once.
func New(routes []Route) (*Table, error) {
	t := &Table{root: newNode()}
	var errs []error
	for _, r := range routes {
		params, err := parseTemplate(r.Template)
		if !slices.Contains(Methods, r.Method) {
			err = fmt.Errorf("method %q is not one of %v", r.Method, Methods)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("route %s %s: %w", r.Method, r.Template, err))
			continue
		}
		r.params = params
		if r.Check == "" {
			r.Check = r.Operation
		}
		t.routes = append(t.routes, &r)
	}
	slices.SortFunc(t.routes, compareRoutes)
	errs = append(errs, ambiguities(t.routes)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, r := range t.routes {
		t.root.insert(r)
	}
	return t, nil
}

// Routes returns the table's routes, sorted by template and method.
func (t *Table) Routes() []Route {
	out := make([]Route, len(t.routes))
	for i, r := range t.routes {
		out[i] = *r
	}
	return out
}

// Len returns the number of routes.
func (t *Table) Len() int { return len(t.routes) }

// Match is a route a request matched, with the path it matched.
type Match struct {
	Route *Route
	path  string
}

// Param returns the value the named parameter took, or "" when the route has none.
func (m Match) Param(name string) string {
	i := m.Route.paramIndex(name)
	if i < 0 {
		return ""
	}
	rest := m.path[1:]
	for range i {
		rest = rest[strings.IndexByte(rest, '/')+1:]
	}
	seg, _, _ := strings.Cut(rest, "/")
	return seg
}

// Match finds the route for a method and a canonical path (see gateway.CanonicalPath):
// it starts with "/" and has no empty, "." or ".." segment.
func (t *Table) Match(method, path string) (Match, bool) {
	m := methodIndex(method)
	if t == nil || m < 0 || !strings.HasPrefix(path, "/") {
		return Match{}, false
	}
	r := t.root.match(path, m)
	if r == nil {
		return Match{}, false
	}
	return Match{Route: r, path: path}, true
}

func methodIndex(method string) int {
	if method == "HEAD" {
		return 0
	}
	return slices.Index(Methods, method)
}

func compareRoutes(a, b *Route) int {
	if c := strings.Compare(a.Template, b.Template); c != 0 {
		return c
	}
	return strings.Compare(a.Method, b.Method)
}
