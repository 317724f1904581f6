// Package console is rolegate's web console: a few HTML pages, a style sheet and
// small scripts, built into the binary and served by `rolegate serve` under /ui. The
// pages read only the public API (the matrix, decisions, status) and, with a token
// the person types, the membership API; they hold no data of their own.
package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Prefix is where the console is served.
const Prefix = "/ui"

// ContentSecurityPolicy allows the console's own scripts, styles and images and its
// calls to the API, and nothing else: no inline script or style, no other origin, no
// framing, no form posted anywhere.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; " +
	"frame-ancestors 'none'"

// CacheControl lets a browser keep a copy but makes it ask again (with the ETag)
// before each use, so a new binary's pages show at once.
const CacheControl = "no-cache"

//go:embed assets
var assets embed.FS

// pages maps each page's path under Prefix to its file.
var pages = map[string]string{
	"":           "index.html",
	"/":          "index.html",
	"/matrix":    "matrix.html",
	"/explorer":  "explorer.html",
	"/workspace": "workspace.html",
}

// File is one file of the console, ready to serve.
type File struct {
	// Name is the file's name in the console's assets.
	Name        string
	ContentType string
	Body        []byte
	// ETag is a strong validator: the quoted start of the body's SHA-256.
	ETag string
}

var files = mustLoad()

// Lookup returns the file served at p, the path after Prefix: "" or "/" for the
// status page, "/matrix" and the other pages, "/static/NAME" for the style sheet,
// the scripts and the icon. It reports false for any other path.
func Lookup(p string) (*File, bool) {
	name, ok := pages[p]
	if !ok {
		rest, static := strings.CutPrefix(p, "/static/")
		if !static || rest == "" || strings.Contains(rest, "/") {
			return nil, false
		}
		name = "static/" + rest
	}
	f, ok := files[name]
	return f, ok
}

// SetHeaders sets the security headers of every console response, the pages' and the
// errors' alike.
func SetHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// mustLoad reads every asset once; an asset of an unknown type is a build mistake.
func mustLoad() map[string]*File {
	out := map[string]*File{}
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(assets, p)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("console asset %s: no content type for its extension", p)
		}
		sum := sha256.Sum256(body)
		name := strings.TrimPrefix(p, "assets/")
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		out[name] = &File{Name: name, ContentType: ct, Body: body, ETag: etag}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}
