// Package policy loads rolegate's Rego policy from a directory, a bundle file or the
// binary itself, and gives policy authors their checks and tests.
package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/open-policy-agent/opa/v1/ast"
	opabundle "github.com/open-policy-agent/opa/v1/bundle"

	"github.com/rolegate/rolegate/policies"
)

// Root is the data path every rolegate policy lives under; it is a bundle's root.
const Root = "rolegate"

// Load reads the policy at path: a directory of Rego files or a bundle file. An empty
// path loads the policy embedded in the binary. A directory or the embedded policy
// gets a manifest with Root and a content-hash revision; a bundle keeps its own, and
// its signature, if any, is not checked.
func Load(path string) (*opabundle.Bundle, error) {
	if path == "" {
		return FromFS(policies.FS, "embedded")
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	if info.IsDir() {
		return FromFS(os.DirFS(path), path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	defer f.Close()
	// Signatures are checked where a verification key is configured (the policy
	// source, `bundle verify`); a tool loading a bundle from disk reads it as is.
	b, err := opabundle.NewReader(f).
		WithRegoVersion(ast.RegoV1).
		WithSkipBundleVerification(true).
		Read()
	if err != nil {
		return nil, fmt.Errorf("load policy bundle %s: %w", path, err)
	}
	return &b, nil
}

// FromFS reads a policy tree (Rego files and data.json files) from fsys; name says
// where it came from in errors.
func FromFS(fsys fs.FS, name string) (*opabundle.Bundle, error) {
	loader, err := opabundle.NewFSLoader(fsys)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", name, err)
	}
	b, err := opabundle.NewCustomReader(loader).WithRegoVersion(ast.RegoV1).Read()
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", name, err)
	}
	if len(b.Modules) == 0 {
		return nil, fmt.Errorf("load policy %s: no Rego files", name)
	}
	b.Manifest.Roots = &[]string{Root}
	b.Manifest.Revision, err = Revision(&b)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", name, err)
	}
	return &b, nil
}

// IsTest reports whether a module path is a Rego test file.
func IsTest(path string) bool { return strings.HasSuffix(path, "_test.rego") }

// WithoutTests returns b without its test modules. The result shares everything but
// its module list with b; neither may be modified afterwards.
func WithoutTests(b *opabundle.Bundle) *opabundle.Bundle {
	c := *b
	c.Modules = make([]opabundle.ModuleFile, 0, len(b.Modules))
	for _, m := range b.Modules {
		if !IsTest(m.Path) {
			c.Modules = append(c.Modules, m)
		}
	}
	return &c
}

// Revision is a content hash of the bundle's policy and data, test files excluded:
// the same sources always give the same revision.
func Revision(b *opabundle.Bundle) (string, error) {
	h := sha256.New()
	mods := WithoutTests(b).Modules
	slices.SortFunc(mods, func(x, y opabundle.ModuleFile) int { return strings.Compare(x.Path, y.Path) })
	for _, m := range mods {
		fmt.Fprintf(h, "%s\x00%d\x00", strings.TrimPrefix(m.Path, "/"), len(m.Raw))
		h.Write(m.Raw)
	}
	data, err := json.Marshal(b.Data, json.Deterministic(true))
	if err != nil {
		return "", fmt.Errorf("hash data: %w", err)
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
