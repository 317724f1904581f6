package browser

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rolegate/rolegate/test/servetest"
)

// chromiumPackage is the Debian package that provides the browser; make test
// installs it through scripts/require.sh.
const chromiumPackage = "chromium"

// browser is one headless Chromium tab with the console messages it wrote.
type browser struct {
	ctx context.Context
	out servetest.Buffer // Chromium's own output, for failures

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

// newBrowser starts headless Chromium with a fresh profile; it is stopped when the
// test ends. A missing Chromium fails the test, naming the package to install.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not on PATH: install the Debian package %q (make tools does): %v",
			chromiumPackage, err)
	}
	b := &browser{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // as root there is no sandbox to run in
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 960),
		chromedp.CombinedOutput(&b.out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b.ctx = ctx

	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.messages = append(b.messages, m)
			b.mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium %s: %v\n%s", path, err, b.out.String())
	}
	return b
}

// do runs the actions with a time limit.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v\npage: %s", what, err, b.pageText())
	}
}

// open loads a page and waits until its scripts ran: the live revision badge is set.
func (b *browser) open(t *testing.T, url string) {
	t.Helper()
	b.do(t, "open "+url, chromedp.Navigate(url))
	b.waitFor(t, "the live revision on "+url, `document.getElementById("live-revision").textContent.startsWith("policy ")`)
}

// waitFor waits until the JavaScript expression is true.
func (b *browser) waitFor(t *testing.T, what, expr string) {
	t.Helper()
	b.do(t, "wait for "+what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(20*time.Second)))
}

// waitText waits until the element's text contains want and returns the text.
func (b *browser) waitText(t *testing.T, sel, want string) string {
	t.Helper()
	b.waitFor(t, sel+" to show "+want, textOf(sel)+".includes("+jsString(want)+")")
	return b.text(t, sel)
}

// text returns the text content of the first element the CSS selector matches.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	return b.eval(t, textOf(sel))
}

// eval evaluates a JavaScript expression whose value is a string.
func (b *browser) eval(t *testing.T, expr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// fill replaces the value of the input with v, typing it as a person would. The
// field is emptied by script: chromedp.SetValue cannot set an empty value (it sends
// no argument, and the field reads "undefined").
func (b *browser) fill(t *testing.T, sel, v string) {
	t.Helper()
	clear := `(() => { const n = document.querySelector(` + jsString(sel) + `); n.value = ""; ` +
		`n.dispatchEvent(new Event("input", {bubbles: true})); })()`
	steps := []chromedp.Action[chromedp.Void]{chromedp.Evaluate[chromedp.Void](clear)}
	if v != "" {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS(sel), v))
	}
	b.do(t, "fill "+sel, steps...)
}

func (b *browser) click(t *testing.T, sel string) {
	t.Helper()
	b.do(t, "click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// screenshot saves what the browser shows to dir/name and returns the PNG.
func (b *browser) screenshot(t *testing.T, dir, name string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
	return png
}

// pageText is the page's visible text, for failure messages.
func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return strings.Join(strings.Fields(s), " ")
}

// consoleMessages returns what the pages wrote to the console so far.
func (b *browser) consoleMessages() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.messages...)
}

func textOf(sel string) string {
	return `((document.querySelector(` + jsString(sel) + `) || {}).textContent || "")`
}

func jsString(s string) string {
	out, _ := json.Marshal(s)
	return string(out)
}
