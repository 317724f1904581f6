package main

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
)

var (
	policyOnce sync.Once
	policyVal  *engine.Policy
	policyErr  error
)

// testPolicy compiles the repository's policies once for the package's tests.
func testPolicy(t *testing.T) *engine.Policy {
	t.Helper()
	policyOnce.Do(func() { policyVal, policyErr = compile(context.Background(), "../policies") })
	if policyErr != nil {
		t.Fatal(policyErr)
	}
	return policyVal
}

var small = shape{Users: 200, Workspaces: 20, Memberships: 1000, Seed: 3}

func TestGeneratedDataLoads(t *testing.T) {
	p := testPolicy(t)
	ds, err := generate(small, p.Model())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "memberships.json")
	if err := writeData(path, ds.Data); err != nil {
		t.Fatal(err)
	}
	d, err := membership.LoadFile(path, p.Model().RoleTypes())
	if err != nil {
		t.Fatalf("the generated file does not load: %v", err)
	}
	if len(d.Workspaces) != small.Workspaces || len(d.Memberships) != small.Memberships {
		t.Fatalf("%d workspaces, %d memberships; want %d, %d",
			len(d.Workspaces), len(d.Memberships), small.Workspaces, small.Memberships)
	}
}

func TestGeneratedDataShape(t *testing.T) {
	ds, err := generate(small, testPolicy(t).Model())
	if err != nil {
		t.Fatal(err)
	}
	counts := map[membership.Status]int{}
	types := map[string]int{}
	for _, w := range ds.Data.Workspaces {
		types[w.Type]++
	}
	for _, m := range ds.Data.Memberships {
		counts[m.Status]++
	}
	if types[membership.TypeTenant] != 2 || types[membership.TypeDeveloper] != 18 {
		t.Errorf("workspace types %v, want 2 tenants and 18 developer workspaces", types)
	}
	statuses := []membership.Status{membership.StatusActive, membership.StatusInvited, membership.StatusBlocked}
	for _, s := range statuses {
		if counts[s] == 0 {
			t.Errorf("no %s membership among %v", s, counts)
		}
	}
	f := ds.Fixture
	for _, m := range ds.workspaceMembers(f.Workspace)[:2] {
		if m.Status != membership.StatusActive || (m.User != f.Admin && m.User != f.Member) {
			t.Errorf("fixture member %+v is not the active admin or member of %+v", m, f)
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	model := testPolicy(t).Model()
	a, err := generate(small, model)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := generate(small, model)
	if diff := cmp.Diff(a.Data, b.Data); diff != "" {
		t.Fatalf("two generations differ (-first +second):\n%s", diff)
	}
	other := small
	other.Seed++
	c, _ := generate(other, model)
	if cmp.Equal(a.Data, c.Data) {
		t.Fatal("another seed gave the same data")
	}
}

func TestShapeValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape shape
		ok    bool
	}{
		{"default", shape{Users: 1000, Workspaces: 100, Memberships: 10_000}, true},
		{"large", shape{Users: 100_000, Workspaces: 10_000, Memberships: 1_000_000}, true},
		{"one workspace", shape{Users: 10, Workspaces: 1, Memberships: 5}, false},
		{"too few memberships", shape{Users: 10, Workspaces: 10, Memberships: 15}, false},
		{"too few users", shape{Users: 5, Workspaces: 10, Memberships: 100}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.shape.validate(); (err == nil) != tc.ok {
				t.Fatalf("validate() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
