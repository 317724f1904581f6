// Package e2e runs the rolegate binary as a user would: built once, then driven
// through its command line.
package e2e

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/test/servetest"
)

// binary is the rolegate executable built for this test run.
var binary string

// repoRoot is the repository's top folder.
const repoRoot = "../.."

func TestMain(m *testing.M) {
	servetest.Main(m, repoRoot, &binary)
}

// result is what one run of the binary printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// run runs the binary in the repository's top folder with stdin.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = repoRoot
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}
