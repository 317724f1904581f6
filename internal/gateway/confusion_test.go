package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/gateway"
)

// plainRequest is a request in its plain spelling, with a decoy: a last segment the
// subject may act on, which a confused reading of a variant might land on instead.
type plainRequest struct {
	subject, method, dir, last, decoy string
}

var plains = []plainRequest{
	{"u-dev", "PATCH", "/api/workspaces/dw-shop/miniprograms", "mp-2", "mp-1"},
	{"u-dev", "PATCH", "/api/workspaces/dw-shop/miniprograms", "mp-1", "mp-2"},
	{"u-dana", "DELETE", "/api/workspaces/dw-shop/members", "u-dana", "u-dev"},
	{"u-dev", "DELETE", "/api/workspaces/dw-shop/miniprograms", "mp-1", "mp-1"},
	{"u-ann", "GET", "/api/developer-workspaces", "dw-books", "dw-shop"},
	{"u-ann", "GET", "/api/workspaces", "dw-shop", "tw-alpha"},
}

// A variant either spells the same request differently (same: it must get the plain
// form's decision) or could be read as another (rejected: it must be refused).
const (
	same     = "same"
	rejected = "rejected"
)

var variants = []struct {
	name, want string
	path       func(dir, last, decoy string) string
}{
	{"plain", same, func(d, l, _ string) string { return d + "/" + l }},
	{"encoded letters", same, func(d, l, _ string) string { return d + "/" + encodeAll(l) }},
	{"lowercase escapes", same, func(d, l, _ string) string { return d + "/" + strings.ToLower(encodeAll(l)) }},
	{"query", same, func(d, l, x string) string { return d + "/" + l + "?id=" + x + "&p=/../" + x }},
	{"query with encoded slash", same, func(d, l, x string) string { return d + "/" + l + "?r=%2F..%2F" + x }},
	{"dot-dot", rejected, func(d, l, x string) string { return d + "/" + x + "/../" + l }},
	{"dot-dot to the decoy", rejected, func(d, l, x string) string { return d + "/" + l + "/../" + x }},
	{"dot", rejected, func(d, l, _ string) string { return d + "/./" + l }},
	{"double slash", rejected, func(d, l, _ string) string { return "/" + d + "/" + l }},
	{"double slash inside", rejected, func(d, l, _ string) string { return d + "//" + l }},
	{"trailing slash", rejected, func(d, l, _ string) string { return d + "/" + l + "/" }},
	{"encoded slash", rejected, func(d, l, x string) string { return d + "/" + x + "%2F..%2F" + l }},
	{"encoded slash, lowercase", rejected, func(d, l, x string) string { return d + "/" + x + "%2f..%2f" + l }},
	{"encoded dot-dot", rejected, func(d, l, x string) string { return d + "/" + x + "/%2e%2e/" + l }},
	{"half-encoded dot-dot", rejected, func(d, l, x string) string { return d + "/" + x + "/.%2E/" + l }},
	{"backslash", rejected, func(d, l, x string) string { return d + "/" + x + "\\..\\" + l }},
	{"encoded backslash", rejected, func(d, l, x string) string { return d + "/" + x + "%5C..%5C" + l }},
	{"encoded backslash, lowercase", rejected, func(d, l, x string) string { return d + "/" + x + "%5c..%5c" + l }},
	{"path parameter", rejected, func(d, l, x string) string { return d + "/" + l + ";" + x }},
	{"path parameter dot-dot", rejected, func(d, l, x string) string { return d + "/" + x + "/..;/" + l }},
	{"encoded semicolon", rejected, func(d, l, x string) string { return d + "/" + l + "%3B" + x }},
	{"NUL", rejected, func(d, l, x string) string { return d + "/" + l + "%00" + x }},
	{"hidden query", rejected, func(d, l, x string) string { return d + "/" + x + "%3F/../" + l }},
	{"hidden query, lowercase", rejected, func(d, l, x string) string { return d + "/" + l + "%3f" + x }},
	{"hidden fragment", rejected, func(d, l, x string) string { return d + "/" + l + "%23" + x }},
	{"fragment", rejected, func(d, l, x string) string { return d + "/" + l + "#/../" + x }},
	{"double encoding", rejected, func(d, l, x string) string { return d + "/" + x + "%252F..%252F" + l }},
	{"double-encoded dot", rejected, func(d, l, x string) string { return d + "/" + x + "/%252e%252e/" + l }},
	{"overlong slash", rejected, func(d, l, x string) string { return d + "/" + x + "%C0%AF..%C0%AF" + l }},
	{"overlong dot", rejected, func(d, l, x string) string { return d + "/" + x + "/%C0%AE%C0%AE/" + l }},
	{"IIS unicode escape", rejected, func(d, l, x string) string { return d + "/" + x + "%u002F..%u002F" + l }},
	{"invalid UTF-8", rejected, func(d, l, _ string) string { return d + "/" + l + "\xff" }},
	{"CR LF", rejected, func(d, l, x string) string { return d + "/" + l + "%0D%0AX-Id:%20" + x }},
	{"tab", rejected, func(d, l, _ string) string { return d + "/" + l + "%09" }},
	{"space", rejected, func(d, l, _ string) string { return d + "/" + l + "%20" }},
	{"bidi override", rejected, func(d, l, _ string) string { return d + "/" + l + "\u202e" }},
	{"no leading slash", rejected, func(d, l, _ string) string { return d[1:] + "/" + l }},
	{"absolute form", rejected, func(d, l, _ string) string { return "http://rolegate.test" + d + "/" + l }},
}

// TestPathConfusion checks every variant of every plain request: a variant spelled
// the same way gets the plain form's decision, any other is refused, and none is
// allowed an operation the plain form is denied.
func TestPathConfusion(t *testing.T) {
	f := newFixture(t, nil, nil)
	for _, p := range plains {
		header := f.bearer(t, p.subject)
		check := func(uri string) gateway.Result {
			return f.gw.Check(context.Background(), &gateway.Request{Method: p.method, URI: uri, Header: header})
		}
		plain := check(p.dir + "/" + p.last)
		for _, v := range variants {
			uri := v.path(p.dir, p.last, p.decoy)
			t.Run(fmt.Sprintf("%s %s/%s/%s", p.method, p.dir, p.last, v.name), func(t *testing.T) {
				got := check(uri)
				if got.Outcome == gateway.Allow && !(plain.Outcome == gateway.Allow && sameTarget(got, plain)) {
					t.Fatalf("%q is allowed %s on %+v; the plain form got %s",
						uri, got.Operation, got.Resource, plain.Outcome)
				}
				switch {
				case v.want == rejected && got.Outcome != gateway.Invalid:
					t.Fatalf("%q got %s (%v), want it refused", uri, got.Outcome, got.Reasons)
				case v.want == same && (got.Outcome != plain.Outcome || !sameTarget(got, plain) ||
					got.Reasons[0] != plain.Reasons[0]):
					t.Fatalf("%q got %s %v, the plain form %s %v",
						uri, got.Outcome, got.Reasons, plain.Outcome, plain.Reasons)
				}
			})
		}
	}
}

// sameTarget reports whether two results are about the same operation on the same
// resource.
func sameTarget(a, b gateway.Result) bool {
	return a.Operation == b.Operation && a.Resource.ID == b.Resource.ID &&
		a.Resource.Workspace == b.Resource.Workspace
}

// encodeAll percent-encodes every byte of s.
func encodeAll(s string) string {
	var b strings.Builder
	for i := range len(s) {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}
