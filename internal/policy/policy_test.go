package policy_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rolegate/rolegate/internal/policy"
)

// TestRegoTests runs the Rego tests beside the policies and holds their coverage.
func TestRegoTests(t *testing.T) {
	r, err := policy.Test(context.Background(), os.DirFS("../../policies"), "policies")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Failures {
		t.Error(f)
	}
	t.Logf("%d Rego tests passed, coverage %.2f%%", r.Passed, r.Coverage)
	if r.Passed == 0 {
		t.Fatal("no Rego tests ran")
	}
	if r.Coverage < 95 {
		t.Fatalf("policy coverage %.2f%% is under 95%%", r.Coverage)
	}
}

func TestCheckPasses(t *testing.T) {
	b, err := policy.Load("../../policies")
	if err != nil {
		t.Fatal(err)
	}
	if err := policy.Check(b); err != nil {
		t.Fatal(err)
	}
}

func TestCheckReportsEveryProblem(t *testing.T) {
	fsys := fstest.MapFS{
		"rolegate/a.rego": {Data: []byte("package rolegate.a\n\nx   :=   1\n")},
		"rolegate/b.rego": {Data: []byte("package rolegate.b\n\nimport data.rolegate.a\n\ny := 2\n")},
	}
	b, err := policy.FromFS(fsys, "test")
	if err != nil {
		t.Fatal(err)
	}
	err = policy.Check(b)
	if err == nil {
		t.Fatal("check passed")
	}
	for _, want := range []string{"a.rego is not formatted", "import data.rolegate.a unused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

func TestRevisionIsAContentHash(t *testing.T) {
	load := func(files map[string]string) string {
		t.Helper()
		fsys := fstest.MapFS{}
		for name, src := range files {
			fsys[name] = &fstest.MapFile{Data: []byte(src)}
		}
		b, err := policy.FromFS(fsys, "test")
		if err != nil {
			t.Fatal(err)
		}
		return b.Manifest.Revision
	}
	base := map[string]string{"rolegate/a.rego": "package rolegate.a\n\nx := 1\n"}
	withTest := map[string]string{
		"rolegate/a.rego":      base["rolegate/a.rego"],
		"rolegate/a_test.rego": "package rolegate.a_test\n\ntest_x if data.rolegate.a.x == 1\n",
	}
	changed := map[string]string{"rolegate/a.rego": "package rolegate.a\n\nx := 2\n"}

	if load(base) != load(base) {
		t.Error("the same sources gave different revisions")
	}
	if load(base) != load(withTest) {
		t.Error("a test file changed the revision")
	}
	if load(base) == load(changed) {
		t.Error("a policy change kept the revision")
	}
	if got := load(base); len(got) != 16 {
		t.Errorf("revision %q is not 16 hex digits", got)
	}
}
