package policy

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	opabundle "github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/format"
)

// Check compiles every module of b, tests included, in strict mode and checks that
// each file is formatted as opa fmt would write it. It reports every problem at once.
func Check(b *opabundle.Bundle) error {
	var errs []error
	modules := make(map[string]*ast.Module, len(b.Modules))
	for _, m := range b.Modules {
		modules[m.Path] = m.Parsed
		formatted, err := format.SourceWithOpts(m.Path, m.Raw, format.Opts{RegoVersion: ast.RegoV1})
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("format %s: %w", m.Path, err))
		case !bytes.Equal(formatted, m.Raw):
			errs = append(errs, fmt.Errorf("%s is not formatted (run opa fmt -w)", m.Path))
		}
	}
	compiler := ast.NewCompiler().WithStrict(true).WithEnablePrintStatements(true)
	if compiler.Compile(modules); compiler.Failed() {
		for _, e := range compiler.Errors {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}
