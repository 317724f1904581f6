package route_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/policy"
	"github.com/rolegate/rolegate/internal/route"
)

// shipped returns the route table of the policy built into the binary.
var shipped = sync.OnceValues(func() (*route.Table, error) {
	b, err := policy.Load("")
	if err != nil {
		return nil, err
	}
	p, err := engine.Compile(context.Background(), b)
	if err != nil {
		return nil, err
	}
	return p.Routes(), nil
})

func shippedTable(t testing.TB) *route.Table {
	t.Helper()
	table, err := shipped()
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// FuzzMatch holds the trie to a plain reading of the table: a request matches a route
// when the methods agree and each segment equals the literal or fills a parameter.
// At most one route may match, the trie must find exactly that one, and putting the
// parameters' values back into the template must give the path.
func FuzzMatch(f *testing.F) {
	f.Add("GET", "/api/workspaces/tw-alpha/miniprograms")
	f.Add("POST", "/api/workspaces/dw-shop/miniprograms/mp-1/releases/r-1/full-release")
	f.Add("HEAD", "/api/workspaces/dw-shop/members")
	f.Add("DELETE", "/api/workspaces/dw-shop/members/u-dev")
	f.Add("GET", "/api/workspaces/miniprograms/miniprograms/miniprograms")
	f.Add("GET", "//api/workspaces/x")
	f.Fuzz(func(t *testing.T, method, path string) {
		table := shippedTable(t)
		m, ok := table.Match(method, path)
		var plain []route.Route
		for _, r := range table.Routes() {
			if plainMatch(r, method, path) {
				plain = append(plain, r)
			}
		}
		if len(plain) > 1 {
			t.Fatalf("%s %s matches %d routes: %v", method, path, len(plain), plain)
		}
		if ok != (len(plain) == 1) {
			t.Fatalf("%s %s: trie matched = %v, plain reading found %d", method, path, ok, len(plain))
		}
		if !ok {
			return
		}
		if m.Route.Template != plain[0].Template || m.Route.Method != plain[0].Method {
			t.Fatalf("%s %s: trie found %s %s, plain reading %s %s", method, path,
				m.Route.Method, m.Route.Template, plain[0].Method, plain[0].Template)
		}
		if got := fill(m); got != path {
			t.Fatalf("%s %s: parameters put back give %s", method, path, got)
		}
	})
}

func plainMatch(r route.Route, method, path string) bool {
	if method == "HEAD" {
		method = "GET"
	}
	if r.Method != method || !strings.HasPrefix(path, "/") {
		return false
	}
	want, got := strings.Split(r.Template[1:], "/"), strings.Split(path[1:], "/")
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		if got[i] == "" || !strings.HasPrefix(w, "{") && w != got[i] {
			return false
		}
	}
	return true
}

// fill puts the values of a match's parameters into its template.
func fill(m route.Match) string {
	segs := strings.Split(m.Route.Template[1:], "/")
	for i, s := range segs {
		if name, ok := strings.CutPrefix(s, "{"); ok {
			segs[i] = m.Param(strings.TrimSuffix(name, "}"))
		}
	}
	return "/" + strings.Join(segs, "/")
}

// BenchmarkMatch measures one lookup in the shipped table.
func BenchmarkMatch(b *testing.B) {
	table := shippedTable(b)
	paths := []string{
		"/api/workspaces/dw-shop/miniprograms/mp-1/releases/r-1/full-release",
		"/api/workspaces/tw-alpha/members",
		"/api/workspaces/dw-shop/marketing/campaigns/c-7",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m, ok := table.Match("POST", paths[i%len(paths)])
		if ok && m.Param(route.ParamWorkspace) == "" {
			b.Fatal("no workspace")
		}
	}
}
