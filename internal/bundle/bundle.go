// Package bundle writes and reads rolegate's policy as OPA bundles, with OPA's own
// bundle format and code: a gzipped tarball with a .manifest, the Rego modules and
// any data, which `opa run --server` loads unchanged.
package bundle

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	opabundle "github.com/open-policy-agent/opa/v1/bundle"

	"github.com/rolegate/rolegate/internal/policy"
)

// Write writes b, without its test files, as a bundle tarball to w.
func Write(w io.Writer, b *opabundle.Bundle) error {
	out := policy.WithoutTests(b)
	if err := opabundle.NewWriter(w).Write(*out); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return nil
}

// WriteFile writes b as a bundle file at path, replacing any file there only once the
// new one is complete.
func WriteFile(path string, b *opabundle.Bundle) error {
	var buf bytes.Buffer
	if err := Write(&buf, b); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bundle-*")
	if err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write bundle: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

// Read reads a bundle tarball.
func Read(r io.Reader) (*opabundle.Bundle, error) {
	b, err := opabundle.NewReader(r).WithRegoVersion(ast.RegoV1).Read()
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	return &b, nil
}

// Contents describes a bundle for people: its manifest and its files.
type Contents struct {
	Revision string   `json:"revision"`
	Roots    []string `json:"roots"`
	Modules  []File   `json:"modules"`
	Data     bool     `json:"data"`
}

// File is one module of a bundle.
type File struct {
	Path  string `json:"path"`
	Bytes int    `json:"bytes"`
}

// Inspect describes b.
func Inspect(b *opabundle.Bundle) Contents {
	c := Contents{Revision: b.Manifest.Revision, Data: len(b.Data) > 0}
	if b.Manifest.Roots != nil {
		c.Roots = *b.Manifest.Roots
	}
	for _, m := range b.Modules {
		c.Modules = append(c.Modules, File{Path: m.Path, Bytes: len(m.Raw)})
	}
	slices.SortFunc(c.Modules, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return c
}
