package route

import (
	"errors"
	"fmt"
	"strings"
)

// node is one segment position of the trie: literal children by segment, at most one
// parameter child, and the routes that end here by method.
type node struct {
	static map[string]*node
	param  *node
	routes [5]*Route // indexed like Methods
}

func newNode() *node { return &node{static: make(map[string]*node)} }

func (n *node) insert(r *Route) {
	for i, seg := range segments(r.Template) {
		if r.params[i] != "" {
			if n.param == nil {
				n.param = newNode()
			}
			n = n.param
			continue
		}
		child := n.static[seg]
		if child == nil {
			child = newNode()
			n.static[seg] = child
		}
		n = child
	}
	n.routes[methodIndex(r.Method)] = r
}

// match walks the rest of the path, literal children first. A table without
// ambiguous routes has at most one answer, so the order changes nothing but speed.
func (n *node) match(rest string, m int) *Route {
	if rest == "" {
		return n.routes[m]
	}
	seg, tail := rest[1:], ""
	if i := strings.IndexByte(seg, '/'); i >= 0 {
		seg, tail = seg[:i], seg[i:]
	}
	if seg == "" {
		return nil
	}
	if child := n.static[seg]; child != nil {
		if r := child.match(tail, m); r != nil {
			return r
		}
	}
	if n.param != nil {
		return n.param.match(tail, m)
	}
	return nil
}

// parseTemplate checks a template and returns its parameter names by segment index.
// Literals are lowercase letters and digits in hyphen-separated words; parameters
// are {name} with name in lowercase letters and underscores, each used once; one of
// them is {workspace}.
func parseTemplate(template string) ([]string, error) {
	if !strings.HasPrefix(template, "/") {
		return nil, errors.New("a template starts with /")
	}
	segs := segments(template)
	params := make([]string, len(segs))
	seen := make(map[string]bool)
	for i, seg := range segs {
		name, isParam := paramName(seg)
		switch {
		case isParam && name == "":
			return nil, fmt.Errorf("segment %d: %q is not a parameter name", i+1, seg)
		case isParam && seen[name]:
			return nil, fmt.Errorf("parameter {%s} appears twice", name)
		case isParam:
			params[i], seen[name] = name, true
		case !literal(seg):
			return nil, fmt.Errorf("segment %d: %q is not lowercase words joined by hyphens", i+1, seg)
		}
	}
	if !seen[ParamWorkspace] {
		return nil, fmt.Errorf("no {%s} parameter", ParamWorkspace)
	}
	return params, nil
}

func segments(template string) []string { return strings.Split(template[1:], "/") }

// paramName returns the name of a {name} segment; isParam is false for a literal.
func paramName(seg string) (name string, isParam bool) {
	inner, ok := strings.CutPrefix(seg, "{")
	if !ok {
		return "", false
	}
	inner, ok = strings.CutSuffix(inner, "}")
	if !ok || inner == "" || strings.Trim(inner, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return "", true
	}
	return inner, true
}

func literal(seg string) bool {
	if seg == "" || seg[0] == '-' || seg[len(seg)-1] == '-' || strings.Contains(seg, "--") {
		return false
	}
	return strings.Trim(seg, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

// ambiguities reports each pair of routes that one request could match: the same
// method, as many segments, and at each position equal literals or a parameter.
func ambiguities(routes []*Route) []error {
	var errs []error
	for i, a := range routes {
		for _, b := range routes[i+1:] {
			if overlap(a, b) {
				errs = append(errs, fmt.Errorf("routes %s %s and %s %s match the same requests",
					a.Method, a.Template, b.Method, b.Template))
			}
		}
	}
	return errs
}

func overlap(a, b *Route) bool {
	if a.Method != b.Method || len(a.params) != len(b.params) {
		return false
	}
	sa, sb := segments(a.Template), segments(b.Template)
	for i := range sa {
		if a.params[i] == "" && b.params[i] == "" && sa[i] != sb[i] {
			return false
		}
	}
	return true
}
