package gateway

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the nginx configuration in docs/gateways.md")

// docParams are the addresses docs/gateways.md shows the nginx configuration with;
// the nginx test renders the same template with loopback addresses.
var docParams = nginxParams{Listen: "80", Rolegate: "rolegate:8181", Backend: "backend:8080"}

// TestGatewaysDocShowsTestedNginxConfig holds the nginx configuration in
// docs/gateways.md to the one TestNginxAuthRequest runs; -update rewrites the doc's.
func TestGatewaysDocShowsTestedNginxConfig(t *testing.T) {
	path := filepath.Join(repoRoot, "docs", "gateways.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start, end := nginxBlock(t, doc)
	want, err := render("gateway", docParams)
	if err != nil {
		t.Fatal(err)
	}
	want += "\n"
	if *update {
		doc = doc[:start] + want + doc[end:]
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(want, doc[start:end]); diff != "" {
		t.Errorf("docs/gateways.md shows another nginx configuration than the test runs "+
			"(go test ./test/gateway -run Doc -update rewrites it) (-tested +doc):\n%s", diff)
	}
}

// nginxBlock returns where the body of the first nginx code block of the section
// "## nginx: auth_request" starts and ends.
func nginxBlock(t *testing.T, doc string) (start, end int) {
	t.Helper()
	const heading, fence = "\n## nginx: auth_request\n", "```nginx\n"
	s := strings.Index(doc, heading)
	if s < 0 {
		t.Fatalf("docs/gateways.md has no section %q", strings.TrimSpace(heading))
	}
	f := strings.Index(doc[s:], fence)
	if f < 0 {
		t.Fatalf("the section %q has no nginx code block", strings.TrimSpace(heading))
	}
	start = s + f + len(fence)
	e := strings.Index(doc[start:], "```\n")
	if e < 0 {
		t.Fatal("the nginx code block of docs/gateways.md does not end")
	}
	return start, start + e
}
