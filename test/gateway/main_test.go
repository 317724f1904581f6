// Package gateway runs rolegate's gateway endpoints as they are deployed: the served
// binary behind a real nginx (auth_request) in front of an upstream that records what
// reaches it, and the same binary called as Traefik's forwardAuth and Envoy's
// ext_authz (HTTP and gRPC) call it.
package gateway

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binary is the rolegate executable built for this test run.
var binary string

// repoRoot is the repository's top folder.
const repoRoot = "../.."

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rolegate-gateway-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "rolegate")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/rolegate")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build rolegate:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
