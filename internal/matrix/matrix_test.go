package matrix_test

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"

	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/matrix"
	"github.com/rolegate/rolegate/internal/policy"
	"github.com/rolegate/rolegate/policies"
	"github.com/rolegate/rolegate/test/domain"
)

var update = flag.Bool("update", false, "rewrite docs/permissions.md from the policy")

const permissionsDoc = "../../docs/permissions.md"

func compute(t *testing.T, fsys fs.FS) *matrix.Matrix {
	t.Helper()
	b, err := policy.FromFS(fsys, "test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.Compile(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := matrix.Compute(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// cells flattens a matrix to operation → role → scope across workspace types.
func cells(m *matrix.Matrix) map[string]map[string]string {
	out := make(map[string]map[string]string)
	for _, t := range m.Tables {
		for op, byRole := range t.Cells {
			if out[op] == nil {
				out[op] = make(map[string]string)
			}
			for role, s := range byRole {
				out[op][role] = string(s)
			}
		}
	}
	return out
}

func TestMatrixEqualsSpecification(t *testing.T) {
	want, err := domain.Matrix()
	if err != nil {
		t.Fatal(err)
	}
	got := cells(compute(t, policies.FS))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("matrix differs from the specification (-spec +policy):\n%s", diff)
	}
}

func TestPermissionsDocIsCurrent(t *testing.T) {
	got := compute(t, policies.FS).Markdown()
	if *update {
		if err := os.WriteFile(permissionsDoc, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(permissionsDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Fatalf("docs/permissions.md does not match the policy; run make matrix\n%s",
			cmp.Diff(string(want), string(got)))
	}
}

// inspector is the optional eighth role of the specification.
const inspector = `{
	"title": "Mini Program Inspector",
	"workspace_type": "tenant",
	"grants": {
		"miniprogram:view": "merchants",
		"miniprogram:list": "merchants",
		"miniprogram:force_remove": "merchants",
		"miniprogram:send_warning": "merchants",
		"inspection:manual_review": "merchants",
		"workspace:view": "workspace",
		"request:submit": "workspace",
		"request:list_own": "own",
		"request:withdraw": "own",
	},
}`

// TestAddingARoleIsOneChange adds the inspector role and its new operation to the
// model file, and nothing else, then checks the matrix.
func TestAddingARoleIsOneChange(t *testing.T) {
	const modelPath = "rolegate/model/model.rego"
	src, err := fs.ReadFile(policies.FS, modelPath)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := ast.ParseModuleWithOpts(modelPath, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range mod.Rules {
		obj, _ := r.Head.Value.Value.(ast.Object)
		switch r.Head.Name {
		case "roles":
			obj.Insert(ast.StringTerm("mini_program_inspector"), ast.MustParseTerm(inspector))
		case "operations":
			obj.Insert(ast.StringTerm("inspection:manual_review"), ast.ObjectTerm())
		}
	}
	edited, err := format.AstWithOpts(mod, format.Opts{RegoVersion: ast.RegoV1})
	if err != nil {
		t.Fatal(err)
	}
	fsys := bundletest.Files(t, map[string]string{modelPath: string(edited)})

	before := cells(compute(t, policies.FS))
	after := cells(compute(t, fsys))
	for op, byRole := range after {
		want := "×"
		if scope, ok := map[string]string{
			"miniprogram:view": "✓+", "miniprogram:list": "✓+", "miniprogram:force_remove": "✓+",
			"miniprogram:send_warning": "✓+", "inspection:manual_review": "✓+",
			"workspace:view": "✓", "request:submit": "✓",
			"request:list_own": "own", "request:withdraw": "own",
		}[op]; ok {
			want = scope
		}
		if got := byRole["mini_program_inspector"]; got != want {
			t.Errorf("inspector %s = %s, want %s", op, got, want)
		}
		delete(byRole, "mini_program_inspector")
	}
	delete(after, "inspection:manual_review")
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("adding the inspector changed other roles (-before +after):\n%s", diff)
	}
}

// TestProbeAgreesWithModel checks that what the policy does is what its model says.
func TestProbeAgreesWithModel(t *testing.T) {
	p := bundletest.Compile(t, nil)
	symbol := map[string]matrix.Scope{
		engine.ScopeWorkspace: matrix.Any, engine.ScopeAssigned: matrix.Assigned,
		engine.ScopeMerchants: matrix.Merchants, engine.ScopeOwn: matrix.Own,
	}
	for _, r := range p.Model().Roles {
		for _, op := range p.Model().OperationNames() {
			want := matrix.Denied
			if s, ok := r.Grants[op]; ok {
				want = symbol[s]
			}
			got, err := matrix.Probe(context.Background(), p, r.ID, r.WorkspaceType, op)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s %s: probe %s, model %s", r.ID, op, got, want)
			}
		}
	}
}
