package route_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/route"
)

// TestDocsListTheShippedRoutes holds the table in docs/gateways.md to the policy's.
func TestDocsListTheShippedRoutes(t *testing.T) {
	data, err := os.ReadFile("../../docs/gateways.md")
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for line := range strings.SplitSeq(string(data), "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) == 3 {
			cells = append(cells, "")
		}
		if len(cells) != 4 || !slices.Contains(route.Methods, strings.Trim(cells[0], "`")) {
			continue
		}
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		got = append(got, cells)
	}
	var want [][]string
	for _, r := range shippedTable(t).Routes() {
		check := r.Check
		if check == r.Operation {
			check = ""
		}
		want = append(want, []string{r.Method, r.Template, r.Operation, check})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("docs/gateways.md lists other routes than the policy (-policy +docs):\n%s", diff)
	}
}
