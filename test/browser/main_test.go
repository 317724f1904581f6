// Package browser tests the web console in a real browser: headless Chromium, driven
// through the DevTools protocol by chromedp, against the real rolegate binary.
package browser

import (
	"flag"
	"testing"

	"github.com/rolegate/rolegate/test/servetest"
)

// repoRoot is the repository's top folder.
const repoRoot = "../.."

var updateScreenshots = flag.Bool("update-screenshots", false,
	"write the console screenshots the README shows (docs/img/console-*.png)")

// binary is the rolegate executable built for this test run.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	servetest.Main(m, repoRoot, &binary)
}
