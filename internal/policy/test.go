package policy

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// DefaultCoverageThreshold is the policy coverage, in percent, under which
// `rolegate policy test` fails.
const DefaultCoverageThreshold = 90.0

// TestReport is the outcome of a run of the Rego tests.
type TestReport struct {
	Passed int
	// Failures names each failed or errored test with what went wrong.
	Failures []string
	// Coverage is the percentage of policy lines (test files excluded) the tests
	// evaluated; Files has it per file.
	Coverage float64
	Files    map[string]float64
}

// Test runs the Rego tests in fsys through OPA's test runner and measures coverage of
// the policy files that are not tests.
func Test(ctx context.Context, fsys fs.FS, name string) (*TestReport, error) {
	b, err := FromFS(fsys, name)
	if err != nil {
		return nil, err
	}
	// Coverage is traced by each module's file location, so key modules the same way.
	modules := make(map[string]*ast.Module, len(b.Modules))
	for _, m := range b.Modules {
		modules[m.Path] = m.Parsed
	}
	cov := cover.New()
	runner := tester.NewRunner().
		SetStore(inmem.NewFromObject(b.Data)).
		SetCompiler(ast.NewCompiler().WithEnablePrintStatements(true)).
		SetCoverageQueryTracer(cov).
		SetTimeout(30 * time.Second).
		SetModules(modules)
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("run policy tests: %w", err)
	}

	report := &TestReport{Files: make(map[string]float64)}
	for r := range ch {
		switch {
		case r.Error != nil:
			report.Failures = append(report.Failures, fmt.Sprintf("%s.%s: error: %v", r.Package, r.Name, r.Error))
		case r.Fail:
			report.Failures = append(report.Failures, fmt.Sprintf("%s.%s: fail (%s)", r.Package, r.Name, r.Location))
		case r.Skip:
		default:
			report.Passed++
		}
	}

	maps.DeleteFunc(modules, func(path string, _ *ast.Module) bool { return IsTest(path) })
	var covered, total int
	for file, fr := range cov.Report(modules).Files {
		if IsTest(file) {
			continue
		}
		report.Files[file] = fr.Coverage
		covered += fr.CoveredLines
		total += fr.CoveredLines + fr.NotCoveredLines
	}
	if total > 0 {
		report.Coverage = 100 * float64(covered) / float64(total)
	}
	return report, nil
}

// SortedFiles returns the file names of the coverage report in order.
func (r *TestReport) SortedFiles() []string {
	return slices.Sorted(maps.Keys(r.Files))
}
