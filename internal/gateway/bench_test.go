package gateway_test

import (
	"context"
	"testing"

	"github.com/rolegate/rolegate/internal/gateway"
)

// BenchmarkCanonicalMatch measures what every check does before authentication and
// the decision: split off the query, canonicalise the path and find the route. A
// path without escapes is not copied; one with escapes is decoded into a new string.
func BenchmarkCanonicalMatch(b *testing.B) {
	p, err := shipped()
	if err != nil {
		b.Fatal(err)
	}
	table := p.Routes()
	for name, uri := range map[string]string{
		"plain":   "/api/workspaces/dw-shop/miniprograms/mp-1/releases/r-1/full-release?q=1",
		"escaped": "/api/workspaces/dw-shop/miniprograms/mp-%31/releases/r-1/full-release?q=1",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				raw, _, _ := gateway.SplitURI(uri)
				path, err := gateway.CanonicalPath(raw)
				if err != nil {
					b.Fatal(err)
				}
				if m, ok := table.Match("POST", path); !ok || m.Param("id") != "mp-1" {
					b.Fatal("no route")
				}
			}
		})
	}
}

// BenchmarkCheck measures a whole check: path, JWT verification (RS256), route,
// membership lookup in the embedded store and policy evaluation.
func BenchmarkCheck(b *testing.B) {
	f := newFixture(b, nil, nil)
	req := &gateway.Request{
		Method: "PATCH", URI: "/api/workspaces/dw-shop/miniprograms/mp-1", Header: f.bearer(b, "u-dev"),
	}
	b.ReportAllocs()
	for b.Loop() {
		if res := f.gw.Check(context.Background(), req); res.Outcome != gateway.Allow {
			b.Fatalf("outcome %s: %v", res.Outcome, res.Reasons)
		}
	}
}
