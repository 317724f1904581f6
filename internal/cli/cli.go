// Package cli defines rolegate's command line: one binary, a subcommand per job.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/policy"
)

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "rolegate:", err)
	if e, ok := errors.AsType[*exitError](err); ok {
		return e.code
	}
	return 1
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "rolegate",
		Short:         "Authorization for mini program platforms: roles, workspaces, decisions",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newServeCmd(),
		newDecideCmd(),
		newMatrixCmd(),
		newPolicyCmd(),
		newBundleCmd(),
		newReplayCmd(),
		newMembersCmd(),
	)
	return root
}

// policyFlag is the --policy flag shared by the commands that evaluate the policy.
func policyFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "policy", "",
		"policy directory or bundle file (default: the policy built into the binary)")
}

// compilePolicy loads and compiles the policy at path.
func compilePolicy(ctx context.Context, path string) (*engine.Policy, error) {
	b, err := policy.Load(path)
	if err != nil {
		return nil, err
	}
	return engine.Compile(ctx, b)
}
