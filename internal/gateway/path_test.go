package gateway_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rolegate/rolegate/internal/gateway"
)

func TestCanonicalPath(t *testing.T) {
	tests := []struct {
		raw     string
		want    string // the canonical path; empty: refused
		wantErr string
	}{
		{"/", "/", ""},
		{"/api/workspaces/dw-shop", "/api/workspaces/dw-shop", ""},
		{"/api/workspaces/%64w-shop", "/api/workspaces/dw-shop", ""},
		{"/api/workspaces/dw%2Dshop%2e1%5F%7e", "/api/workspaces/dw-shop.1_~", ""},
		{"/a/b%2Cc%3D%40%3A", "/a/b,c=@:", ""},
		{"/a/it's(1)!$&*+", "/a/it's(1)!$&*+", ""},
		{"/a/%C3%A9t%C3%A9", "/a/été", ""},
		{"/a/été", "/a/été", ""},
		{"/a/...", "/a/...", ""},
		{"/a/.b/c.", "/a/.b/c.", ""},
		{"", "", "does not start with /"},
		{"api/workspaces", "", "does not start with /"},
		{"*", "", "does not start with /"},
		{"http://evil.test/api", "", "does not start with /"},
		{"//api/workspaces", "", "empty segment"},
		{"/api//workspaces", "", "empty segment"},
		{"/api/workspaces/", "", "empty segment"},
		{"/api/./workspaces", "", `"." segment`},
		{"/api/workspaces/..", "", `".." segment`},
		{"/api/%2e%2e/x", "", `".." segment`},
		{"/api/.%2E/x", "", `".." segment`},
		{"/api/%2E/x", "", `"." segment`},
		{"/a%2Fb", "", "%2F, which encodes a / inside a segment"},
		{"/a%2fb", "", "%2F, which encodes a / inside a segment"},
		{"/a%5Cb", "", "%5C, which encodes a backslash"},
		{"/a%5cb", "", "%5C, which encodes a backslash"},
		{"/a\\b", "", "a backslash, which is not allowed"},
		{"/a%00", "", "%00, which encodes a control character"},
		{"/a%0d%0aX-Evil:%201", "", "%0D, which encodes a control character"},
		{"/a%252F", "", "%25, which encodes a % (a double encoding)"},
		{"/a;jsessionid=1", "", "a path parameter (;), which is not allowed"},
		{"/a%3Bb", "", "%3B, which encodes a path parameter (;)"},
		{"/a%3Fb", "", `%3F, which encodes '?'`},
		{"/a%23b", "", `%23, which encodes '#'`},
		{"/a%20b", "", `%20, which encodes ' '`},
		{"/a b", "", `' ', which is not allowed`},
		{"/a\tb", "", "a control character (0x09)"},
		{"/a|b", "", `'|', which is not allowed`},
		{"/a%", "", "a malformed percent-escape"},
		{"/a%4", "", "a malformed percent-escape"},
		{"/a%zz", "", "a malformed percent-escape"},
		{"/a%u002F", "", "a malformed percent-escape"},
		{"/a%C0%AF", "", "not valid UTF-8"},
		{"/a%E0%80%AF", "", "not valid UTF-8"},
		{"/a%C3", "", "not valid UTF-8"},
		{"/a\xff", "", "not valid UTF-8"},
		{"/a%ED%A0%80", "", "not valid UTF-8"},
		{"/a%C2%85", "", "control or format character U+0085"},
		{"/a\u202Egnp.exe", "", "control or format character U+202E"},
		{"/a%E2%80%8B", "", "control or format character U+200B"},
		{"/" + strings.Repeat("a/", 32) + "a", "", "more than 32 segments"},
		{"/" + strings.Repeat("a", gateway.MaxPathBytes), "", "longer than 2048 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := gateway.CanonicalPath(tt.raw)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("CanonicalPath = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, gateway.ErrInvalidPath) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CanonicalPath = %q, %v; want an invalid path error saying %q", got, err, tt.wantErr)
			}
		})
	}
}

func TestSplitURI(t *testing.T) {
	path, query, err := gateway.SplitURI("/a/b?c=/../d?e")
	if err != nil || path != "/a/b" || query != "c=/../d?e" {
		t.Fatalf("SplitURI = %q, %q, %v", path, query, err)
	}
	if _, _, err := gateway.SplitURI("/a/b#c"); !errors.Is(err, gateway.ErrInvalidPath) {
		t.Fatalf("a fragment was accepted: %v", err)
	}
}

// FuzzCanonicalPath holds CanonicalPath to its contract on any input: an accepted
// path decodes to exactly what the standard library decodes it to, keeps no byte a
// second reading could take differently, and is its own canonical form.
func FuzzCanonicalPath(f *testing.F) {
	for _, seed := range []string{
		"/api/workspaces/dw-shop/miniprograms/mp-1", "/a/%2e%2e/b", "/a%2Fb", "/a/%C3%A9",
		"/a;b", "/a%252F", "/a/./b", "//a", "/a%C0%AF", "/a\\b", "/a%00", "/%7e%41",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := gateway.CanonicalPath(raw)
		if err != nil {
			if !errors.Is(err, gateway.ErrInvalidPath) || got != "" {
				t.Fatalf("refusal %q, %v does not wrap ErrInvalidPath", got, err)
			}
			return
		}
		if want, err := url.PathUnescape(raw); err != nil || want != got {
			t.Fatalf("CanonicalPath(%q) = %q; url.PathUnescape gives %q, %v", raw, got, want, err)
		}
		if again, err := gateway.CanonicalPath(got); err != nil || again != got {
			t.Fatalf("CanonicalPath(%q) = %q is not canonical: %q, %v", raw, got, again, err)
		}
		if !utf8.ValidString(got) || strings.ContainsAny(got, "%\\;?#\x00") {
			t.Fatalf("CanonicalPath(%q) = %q keeps an ambiguous byte", raw, got)
		}
		if got != "/" {
			for _, seg := range strings.Split(got[1:], "/") {
				if seg == "" || seg == "." || seg == ".." {
					t.Fatalf("CanonicalPath(%q) = %q has segment %q", raw, got, seg)
				}
			}
		}
	})
}
