package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/console"
)

// TestConsoleServesItsFiles: each page and asset with its type, the security headers
// and a validator, revalidated to a 304.
func TestConsoleServesItsFiles(t *testing.T) {
	h := newServer(t, exampleWorld(t))
	for target, wantType := range map[string]string{
		"/ui": "text/html", "/ui/": "text/html", "/ui/matrix": "text/html",
		"/ui/explorer": "text/html", "/ui/workspace": "text/html",
		"/ui/static/console.css": "text/css", "/ui/static/matrix.js": "text/javascript",
		"/ui/static/icon.svg": "image/svg+xml",
	} {
		rec := call(h, "GET", target, "", "")
		hdr := rec.Header()
		if rec.Code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), wantType) {
			t.Errorf("GET %s: %d %s, want 200 %s", target, rec.Code, hdr.Get("Content-Type"), wantType)
			continue
		}
		checkConsoleHeaders(t, target, hdr)
		if hdr.Get("Cache-Control") != "no-cache" || hdr.Get("ETag") == "" {
			t.Errorf("GET %s: Cache-Control %q, ETag %q", target, hdr.Get("Cache-Control"), hdr.Get("ETag"))
		}
		again := call(h, "GET", target, "", "", "If-None-Match", hdr.Get("ETag"))
		if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
			t.Errorf("GET %s with its ETag: %d, %d bytes; want 304", target, again.Code, again.Body.Len())
		}
	}
}

func checkConsoleHeaders(t *testing.T, target string, hdr http.Header) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Security-Policy": console.ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := hdr.Get(name); got != want {
			t.Errorf("%s: %s = %q, want %q", target, name, got, want)
		}
	}
	if csp := hdr.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe") {
		t.Errorf("%s: the policy allows %q", target, csp)
	}
}

// TestConsoleRefusesOtherPaths: an unknown console path is a 404 in the error shape,
// with the console's headers; another method is a 405.
func TestConsoleRefusesOtherPaths(t *testing.T) {
	h := newServer(t, exampleWorld(t))
	for _, target := range []string{
		"/ui/nope", "/ui/index.html", "/ui/matrix/", "/ui/static/", "/ui/static/nope.js",
		"/ui/static/%2e%2e/index.html", "/ui/static/..%2findex.html", "/ui/matrix.html",
	} {
		rec := call(h, "GET", target, "", "")
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `{"error":{"code":"not_found"`) {
			t.Errorf("GET %s: %d %s, want 404 not_found", target, rec.Code, rec.Body)
		}
		checkConsoleHeaders(t, target, rec.Header())
	}
	rec := call(h, "POST", "/ui/matrix", jsonType, "{}")
	if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Body.String(), "method_not_allowed") {
		t.Errorf("POST /ui/matrix: %d %s, want 405", rec.Code, rec.Body)
	}
}

// TestConsoleLeavesTheAPIAlone: the console's headers are its own; the API answers
// as before.
func TestConsoleLeavesTheAPIAlone(t *testing.T) {
	h := newServer(t, exampleWorld(t))
	for _, target := range []string{"/v1/status", "/healthz", "/v1/matrix", "/nope"} {
		rec := call(h, "GET", target, "", "")
		if rec.Header().Get("Content-Security-Policy") != "" || rec.Header().Get("ETag") != "" {
			t.Errorf("GET %s carries the console's headers: %v", target, rec.Header())
		}
	}
}
