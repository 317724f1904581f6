package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/authz"
)

func testMix(t *testing.T, n int) (*dataset, *mix) {
	t.Helper()
	p := testPolicy(t)
	ds, err := generate(small, p.Model())
	if err != nil {
		t.Fatal(err)
	}
	m, err := buildMix(ds, p.Model(), inProcess(p, ds.Data), n, 11)
	if err != nil {
		t.Fatal(err)
	}
	return ds, m
}

func TestMixIsBalancedAndDistinct(t *testing.T) {
	_, m := testMix(t, 400)
	if len(m.Requests) != 400 || m.Allowed != 200 {
		t.Fatalf("%d requests, %d allowed; want 400, 200", len(m.Requests), m.Allowed)
	}
	bodies, err := m.bodies(false)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	actions := map[string]bool{}
	for i, b := range bodies {
		if seen[string(b)] {
			t.Fatalf("request %d repeats: %s", i, b)
		}
		seen[string(b)] = true
		req, err := authz.DecodeRequest(b)
		if err != nil {
			t.Fatalf("request %d is not a valid decision request: %v\n%s", i, err, b)
		}
		actions[req.Action] = true
	}
	if len(actions) < 30 {
		t.Errorf("only %d operations in the mix", len(actions))
	}
}

func TestMixIsDeterministic(t *testing.T) {
	_, a := testMix(t, 100)
	_, b := testMix(t, 100)
	if diff := cmp.Diff(a.Requests, b.Requests); diff != "" {
		t.Fatalf("two mixes differ (-first +second):\n%s", diff)
	}
}

func TestMixBodiesForOPA(t *testing.T) {
	_, m := testMix(t, 10)
	plain, _ := m.bodies(false)
	wrapped, err := m.bodies(true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain {
		want := append(append([]byte(`{"input":`), plain[i]...), '}')
		if !bytes.Equal(wrapped[i], want) {
			t.Fatalf("OPA body %d = %s, want %s", i, wrapped[i], want)
		}
		if strings.Contains(string(plain[i]), "\n") {
			t.Fatalf("body %d spans lines, and the wrk script reads one a line: %s", i, plain[i])
		}
	}
}

func TestProbeTellsTheRolesApart(t *testing.T) {
	p := testPolicy(t)
	ds, err := generate(small, p.Model())
	if err != nil {
		t.Fatal(err)
	}
	c, err := probeFor(p.Model(), ds.Fixture)
	if err != nil {
		t.Fatal(err)
	}
	decide := inProcess(p, ds.Data)
	req := &authz.Request{Subject: c.member, Action: c.probe, Resource: authz.Resource{Workspace: c.workspace}}
	if got := decide(req); got == c.toAllows {
		t.Fatalf("with role %s the probe %s answers %v; the change to %s must flip it",
			c.from, c.probe, got, c.to)
	}
}
