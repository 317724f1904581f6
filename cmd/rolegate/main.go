// Command rolegate is an authorization service for mini program platforms: it answers
// whether a subject may perform an operation on a resource, from Rego policies and
// workspace memberships.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/rolegate/rolegate/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
