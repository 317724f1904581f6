package console_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/rolegate/rolegate/internal/console"
)

var pages = []string{"", "/", "/matrix", "/explorer", "/workspace"}

func TestLookup(t *testing.T) {
	for _, p := range append(pages, "/static/console.css", "/static/console.js", "/static/icon.svg") {
		f, ok := console.Lookup(p)
		if !ok || len(f.Body) == 0 || f.ContentType == "" || !strings.HasPrefix(f.ETag, `"`) {
			t.Errorf("Lookup(%q) = %+v, %v", p, f, ok)
		}
	}
	for _, p := range []string{
		"/index.html", "/matrix/", "/matrix.html", "/static/", "/static/../index.html",
		"/static/x/console.js", "/static/nope.js", "/nope", "//matrix",
	} {
		if f, ok := console.Lookup(p); ok {
			t.Errorf("Lookup(%q) found %s", p, f.Name)
		}
	}
}

// TestPagesNeedNoInlineCode holds every page to what the Content-Security-Policy
// allows: scripts and styles only from files of the console, no event handler or
// style attribute, nothing from another origin.
func TestPagesNeedNoInlineCode(t *testing.T) {
	for _, p := range pages[1:] {
		f, _ := console.Lookup(p)
		z := html.NewTokenizer(bytes.NewReader(f.Body))
		var inScript bool
		for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
			tok := z.Token()
			switch {
			case tt == html.TextToken && inScript && strings.TrimSpace(tok.Data) != "":
				t.Errorf("%s: inline script %q", f.Name, tok.Data)
			case tt == html.StartTagToken || tt == html.SelfClosingTagToken:
				inScript = tok.Data == "script"
				checkTag(t, f.Name, tok)
			case tt == html.EndTagToken:
				inScript = false
			}
		}
	}
}

func checkTag(t *testing.T, page string, tok html.Token) {
	t.Helper()
	if tok.Data == "style" {
		t.Errorf("%s: a <style> element", page)
	}
	src := ""
	for _, a := range tok.Attr {
		switch {
		case strings.HasPrefix(a.Key, "on"), a.Key == "style":
			t.Errorf("%s: <%s %s=%q>", page, tok.Data, a.Key, a.Val)
		case a.Key == "src" || a.Key == "href":
			src = a.Val
			if !strings.HasPrefix(a.Val, "/ui") && !strings.HasPrefix(a.Val, "/v1/") {
				t.Errorf("%s: <%s %s=%q> leaves the console", page, tok.Data, a.Key, a.Val)
			}
			_, ok := console.Lookup(strings.TrimPrefix(a.Val, console.Prefix))
			if strings.HasPrefix(a.Val, console.Prefix) && !ok {
				t.Errorf("%s: <%s %s=%q> names no console file", page, tok.Data, a.Key, a.Val)
			}
		}
	}
	if tok.Data == "script" && src == "" {
		t.Errorf("%s: a <script> without src", page)
	}
}

// TestScriptsStayOnTheOrigin: the scripts build the page from text, never from
// HTML, load nothing from elsewhere and keep nothing beyond the tab's session.
func TestScriptsStayOnTheOrigin(t *testing.T) {
	forbidden := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|` +
		`new Function|localStorage|document\.cookie|https?://|import\(`)
	imports := regexp.MustCompile(`from "\./([a-z]+\.js)"`)
	for _, name := range []string{"console", "status", "matrix", "explorer", "workspace"} {
		f, ok := console.Lookup("/static/" + name + ".js")
		if !ok {
			t.Fatalf("no script %s.js", name)
		}
		if m := forbidden.Find(f.Body); m != nil {
			t.Errorf("%s uses %s", f.Name, m)
		}
		for _, m := range imports.FindAllSubmatch(f.Body, -1) {
			if _, ok := console.Lookup("/static/" + string(m[1])); !ok {
				t.Errorf("%s imports %s, which the console lacks", f.Name, m[1])
			}
		}
	}
	css, _ := console.Lookup("/static/console.css")
	if bytes.Contains(css.Body, []byte("@import")) || bytes.Contains(css.Body, []byte("url(")) {
		t.Error("the style sheet loads another file")
	}
}
