package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/test/redistest"
)

// export runs members export and decodes what it prints.
func export(t *testing.T, url string) *membership.Data {
	t.Helper()
	r := run(t, "", "members", "export", "--redis", url)
	if r.code != 0 {
		t.Fatalf("export: exit %d: %s", r.code, r.stderr)
	}
	d, err := membership.Decode(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatalf("export printed %q: %v", r.stdout, err)
	}
	return d
}

func example(t *testing.T) *membership.Data {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "examples/memberships.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := membership.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	d.Sort()
	return d
}

func TestMembersImportExport(t *testing.T) {
	url := redistest.Start(t, redistest.Options{}).URL()
	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantOutput string // in stdout, or in stderr when the command fails
	}{
		{
			"import",
			[]string{"examples/memberships.json"},
			0,
			"imported 5 workspaces, 20 memberships, merged (revision 1)",
		},
		{"import again", []string{"examples/memberships.json"}, 0, "unchanged: Redis already holds"},
		{"replace with the same", []string{"examples/memberships.json", "--replace"}, 0, "unchanged"},
		{"invalid file", []string{"internal/membership/testdata/invalid.json"}, 1, "12 problem(s)"},
		{"missing file", []string{"no/such/file.json"}, 1, "no such file"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := run(t, "", append([]string{"members", "import", "--redis", url}, st.args...)...)
			out := r.stdout
			if st.wantCode != 0 {
				out = r.stderr
			}
			if r.code != st.wantCode || !strings.Contains(out, st.wantOutput) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q",
					r.code, r.stdout, r.stderr, st.wantCode, st.wantOutput)
			}
			if diff := cmp.Diff(example(t), export(t, url), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("Redis after %s (-want +got):\n%s", st.name, diff)
			}
		})
	}
}

func TestMembersImportReplaceAndMerge(t *testing.T) {
	url := redistest.Start(t, redistest.Options{}).URL()
	if r := run(t, "", "members", "import", "--redis", url, "examples/memberships.json"); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	merchant := write("merchant.json", `{"workspaces": [{"id": "dw-new", "type": "developer", "tenant": "tw-alpha"}],
		"memberships": [{"user": "u-new", "workspace": "dw-new", "role": "developer_admin", "status": "active"}]}`)
	wrongType := write("wrong.json", `{"workspaces": [{"id": "dw-shop", "type": "tenant"}], "memberships": []}`)
	alone := write("alone.json", `{"workspaces": [{"id": "tw-solo", "type": "tenant"}],
		"memberships": [{"user": "u-solo", "workspace": "tw-solo", "role": "workspace_admin", "status": "active"}]}`)

	// A merge that leaves dw-shop's developer roles in a tenant workspace is refused whole.
	r := run(t, "", "members", "import", "--redis", url, wrongType)
	if r.code != 1 || !strings.Contains(r.stderr, "merged with what Redis holds") {
		t.Fatalf("merge into an invalid state: exit %d, %s", r.code, r.stderr)
	}
	// A merchant file naming its tenant, which only Redis holds, merges.
	if r := run(t, "", "members", "import", "--redis", url, merchant); r.code != 0 {
		t.Fatalf("merge a merchant: %s", r.stderr)
	}
	want := example(t)
	if got := export(t, url); len(got.Workspaces) != len(want.Workspaces)+1 ||
		len(got.Memberships) != len(want.Memberships)+1 {
		t.Fatalf("after the merge: %d workspaces, %d memberships", len(got.Workspaces), len(got.Memberships))
	}
	// With --replace Redis holds exactly the file; the URL may come from the environment.
	t.Setenv("ROLEGATE_REDIS_URL", url)
	if r := run(t, "", "members", "import", alone, "--replace"); r.code != 0 {
		t.Fatalf("replace: %s", r.stderr)
	}
	got := export(t, url)
	if len(got.Workspaces) != 1 || got.Workspaces[0].ID != "tw-solo" || len(got.Memberships) != 1 {
		t.Fatalf("after the replace: %+v", got)
	}
}

func TestMembersNeedRedis(t *testing.T) {
	t.Setenv("ROLEGATE_REDIS_URL", "")
	r := run(t, "", "members", "export")
	if r.code != 1 || !strings.Contains(r.stderr, "--redis") {
		t.Fatalf("export without Redis: exit %d, %q", r.code, r.stderr)
	}
}
