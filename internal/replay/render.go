package replay

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/rolegate/rolegate/internal/authz"
)

// JSON renders the report as indented JSON.
func (rep *Report) JSON() ([]byte, error) {
	out, err := json.Marshal(rep, json.Deterministic(true), jsontext.WithIndent("  "))
	if err != nil {
		return nil, fmt.Errorf("render replay report: %w", err)
	}
	return append(out, '\n'), nil
}

// WriteText writes the report for people: a summary, the changes by operation and
// role, then the examples of each group.
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	rep.writeSummary(&b)
	if rep.Changed == 0 {
		b.WriteString("\nNo decision would change.\n")
	} else {
		b.WriteByte('\n')
		rep.writeTable(&b)
		for _, g := range rep.Groups {
			writeExamples(&b, g)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (rep *Report) writeSummary(b *strings.Builder) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "candidate policy\t%s\n", rep.Candidate)
	fmt.Fprintf(tw, "decisions in the log\t%d%s\n", rep.Decisions, period(rep.First, rep.Last))
	fmt.Fprintf(tw, "logged under policy\t%s\n", counts(rep.Logged))
	fmt.Fprintf(tw, "not made by the policy\t%d%s\n", total(rep.Skipped), parenthesized(counts(rep.Skipped)))
	fmt.Fprintf(tw, "replayed\t%d\n", rep.Replayed)
	fmt.Fprintf(tw, "changed\t%d (allow→deny %d, deny→allow %d)\n",
		rep.Changed, rep.AllowToDeny, rep.DenyToAllow)
	fmt.Fprintf(tw, "same answer, other reasons\t%d\n", rep.ReasonsChanged)
	tw.Flush()
}

// writeTable writes the groups as a table, names left-aligned and counts right.
func (rep *Report) writeTable(b *strings.Builder) {
	opWidth, roleWidth := len("operation"), len("role")
	for _, g := range rep.Groups {
		opWidth, roleWidth = max(opWidth, len(g.Operation)), max(roleWidth, len(g.Role))
	}
	row := func(op, role, toDeny, toAllow any) {
		fmt.Fprintf(b, "%-*s  %-*s  %10v  %10v\n", opWidth, op, roleWidth, role, toDeny, toAllow)
	}
	row("operation", "role", "allow→deny", "deny→allow")
	for _, g := range rep.Groups {
		row(g.Operation, g.Role, g.AllowToDeny, g.DenyToAllow)
	}
}

func writeExamples(b *strings.Builder, g *Group) {
	fmt.Fprintf(b, "\n%s, %s:\n", g.Operation, g.Role)
	for _, c := range g.Examples {
		fmt.Fprintf(b, "  %s (line %d) %s on %s: %s → %s\n", c.DecisionID, c.Line, c.Subject,
			resource(c.Resource), answer(c.Was.Allow), answer(c.Now.Allow))
		fmt.Fprintf(b, "    was: %s\n", strings.Join(c.Was.Reasons, ", "))
		b.WriteString("    now: ")
		for i, code := range c.Now.Reasons {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(b, "%s (%s)", code, c.Now.Messages[i])
		}
		b.WriteByte('\n')
	}
	if n := g.AllowToDeny + g.DenyToAllow - len(g.Examples); n > 0 {
		fmt.Fprintf(b, "  and %d more\n", n)
	}
}

func answer(allow bool) string {
	if allow {
		return "allow"
	}
	return "deny"
}

func resource(r authz.Resource) string {
	if r.ID == "" {
		return r.Workspace
	}
	return r.Workspace + "/" + r.ID
}

func period(first, last time.Time) string {
	if first.IsZero() {
		return ""
	}
	return fmt.Sprintf(", %s to %s", first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
}

// counts renders "a 2, b 1", keys sorted, or "none".
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func parenthesized(s string) string {
	if s == "none" {
		return ""
	}
	return " (" + s + ")"
}
