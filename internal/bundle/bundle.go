// Package bundle writes and reads rolegate's policy as OPA bundles, with OPA's own
// bundle format and code: a gzipped tarball with a .manifest, the Rego modules and
// any data, which `opa run --server` loads unchanged.
package bundle

import (
	"bytes"
	"errors"
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

// FileMode is the mode of a bundle file: readable by all, as opa build writes it, so a
// static HTTP server running as another user can serve it. A bundle holds no secret.
const FileMode = 0o644

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
	if err := tmp.Chmod(FileMode); err != nil {
		tmp.Close()
		return fmt.Errorf("write bundle: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

// DataBundle returns a bundle that carries doc at data.<root> and owns root, with a
// content-hash revision. It is how data such as memberships reaches a plain OPA
// server beside the policy bundle.
func DataBundle(root string, doc any) (*opabundle.Bundle, error) {
	b := &opabundle.Bundle{
		Manifest: opabundle.Manifest{Roots: &[]string{root}},
		Data:     map[string]any{root: doc},
	}
	rev, err := policy.Revision(b)
	if err != nil {
		return nil, fmt.Errorf("data bundle: %w", err)
	}
	b.Manifest.Revision = rev
	return b, nil
}

// ErrSignature marks a well-formed bundle whose signature does not check out: it is
// unsigned, signed with another key or scope, or holds a file the signature does not
// cover or whose digest differs.
var ErrSignature = errors.New("bundle signature rejected")

// ReadOptions tune ReadWith.
type ReadOptions struct {
	// Verify, when not nil, is the signature check the bundle must pass.
	Verify *opabundle.VerificationConfig
	// MaxFileBytes bounds each file once decompressed; zero means OPA's default.
	MaxFileBytes int64
}

// Read reads a bundle tarball without checking, or keeping, any signature it carries.
func Read(r io.Reader) (*opabundle.Bundle, error) {
	return ReadWith(r, ReadOptions{})
}

// ReadWith reads a bundle tarball with OPA's reader. With o.Verify set, a bundle
// that parses but fails the signature check is an error wrapping ErrSignature.
func ReadWith(r io.Reader, o ReadOptions) (*opabundle.Bundle, error) {
	if o.Verify == nil {
		return read(r, o)
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	b, err := read(bytes.NewReader(raw), o)
	if err == nil {
		return b, nil
	}
	// OPA's reader does not say which step failed: a bundle that reads without the
	// check failed the check.
	if _, perr := read(bytes.NewReader(raw), ReadOptions{MaxFileBytes: o.MaxFileBytes}); perr != nil {
		return nil, perr
	}
	return nil, fmt.Errorf("read bundle: %w: %w", ErrSignature, errors.Unwrap(err))
}

func read(r io.Reader, o ReadOptions) (*opabundle.Bundle, error) {
	br := opabundle.NewReader(r).WithRegoVersion(ast.RegoV1)
	if o.Verify != nil {
		br = br.WithBundleVerificationConfig(o.Verify)
	} else {
		br = br.WithSkipBundleVerification(true)
	}
	if o.MaxFileBytes > 0 {
		br = br.WithSizeLimitBytes(o.MaxFileBytes)
	}
	b, err := br.Read()
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
