// Package gateway runs rolegate's gateway endpoints as they are deployed: the served
// binary behind a real nginx (auth_request) in front of an upstream that records what
// reaches it, and the same binary called as Traefik's forwardAuth and Envoy's
// ext_authz (HTTP and gRPC) call it.
package gateway

import (
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
