package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/source"
	"github.com/rolegate/rolegate/test/domain"
	"github.com/rolegate/rolegate/test/opatest"
)

// TestSameBundleInOPA builds and signs the policy and the memberships with the
// rolegate binary, serves both with `opa run --server` (verifying the signatures),
// and checks that OPA answers a sample of the specification's cases exactly as
// rolegate does from the same bundle file.
func TestSameBundleInOPA(t *testing.T) {
	dir := t.TempDir()
	sign, verify := bundletest.Keys(t, bundle.AlgRS256)
	world := filepath.Join(dir, "world.json")
	data, err := json.Marshal(domain.World())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(world, data, 0o600); err != nil {
		t.Fatal(err)
	}
	policyBundle, dataBundle := filepath.Join(dir, "rolegate.tar.gz"), filepath.Join(dir, "memberships.tar.gz")
	for _, args := range [][]string{
		{"bundle", "build", "-o", policyBundle, "--signing-key", sign.KeyFile, "policies"},
		{"bundle", "data", "--data", world, "-o", dataBundle, "--signing-key", sign.KeyFile},
	} {
		if r := run(t, "", args...); r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}

	opa := opatest.Start(t, "--bundle", "--verification-key", verify.KeyFile, policyBundle, dataBundle)
	svc := rolegateFrom(t, policyBundle, verify)

	cases, err := domain.Cases()
	if err != nil {
		t.Fatal(err)
	}
	compared, allowed := 0, 0
	for i, c := range cases {
		if i%11 != 0 && c.Request.Action != "miniprogram:view" {
			continue
		}
		want := svc.Decide(context.Background(), &c.Request)
		if want.Err != nil {
			t.Fatalf("%s: %v", c.Name, want.Err)
		}
		got := opaDecision(t, opa, &c.Request)
		if diff := cmp.Diff(decisionOf(want), got); diff != "" {
			t.Errorf("%s: OPA answers otherwise (-rolegate +opa):\n%s", c.Name, diff)
		}
		compared++
		if want.Allow {
			allowed++
		}
	}
	t.Logf("%d decisions compared, %d allowed", compared, allowed)
	if allowed == 0 || allowed == compared {
		t.Fatalf("degenerate sample: %d of %d allowed", allowed, compared)
	}
}

// rolegateFrom returns a decision service whose policy the policy source loaded,
// verified, from the bundle file.
func rolegateFrom(t *testing.T, path string, verify bundle.Verification) *authz.Service {
	t.Helper()
	e := engine.New(nil)
	m, err := source.New(source.Config{File: path, Verification: verify}, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return authz.NewService(e, memory.New(domain.World()))
}

// opaAnswer is the policy's decision document as a plain OPA server returns it.
type opaAnswer struct {
	Allow   bool            `json:"allow"`
	Reasons []engine.Reason `json:"reasons"`
}

func decisionOf(d authz.Decision) opaAnswer { return opaAnswer{Allow: d.Allow, Reasons: d.Reasons} }

func opaDecision(t *testing.T, opa *opatest.Server, req *authz.Request) opaAnswer {
	t.Helper()
	raw, err := opa.Query(context.Background(), "rolegate/authz/decision", req)
	if err != nil {
		t.Fatal(err)
	}
	var a opaAnswer
	if err := json.Unmarshal(raw, &a, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("OPA's answer %s: %v", raw, err)
	}
	return a
}
