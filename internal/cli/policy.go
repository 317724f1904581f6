package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/rolegate/rolegate/internal/policy"
)

const defaultPolicyDir = "policies"

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Test and check Rego policies",
	}
	cmd.AddCommand(newPolicyTestCmd(), newPolicyCheckCmd())
	return cmd
}

func newPolicyTestCmd() *cobra.Command {
	var threshold float64
	cmd := &cobra.Command{
		Use:   "test [dir]",
		Short: "Run the Rego tests with a coverage summary",
		Long: "Test runs every Rego test under dir (default: policies) and prints coverage per\n" +
			"file. It fails when a test fails or coverage is under the threshold.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := dirArg(args)
			report, err := policy.Test(cmd.Context(), os.DirFS(dir), dir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, f := range report.SortedFiles() {
				fmt.Fprintf(out, "  %6.2f%%  %s\n", report.Files[f], f)
			}
			fmt.Fprintf(out, "PASS %d, FAIL %d, coverage %.2f%% (threshold %.2f%%)\n",
				report.Passed, len(report.Failures), report.Coverage, threshold)
			for _, f := range report.Failures {
				fmt.Fprintln(out, "  "+f)
			}
			if len(report.Failures) > 0 {
				return &exitError{code: 2, err: fmt.Errorf("%d policy test(s) failed", len(report.Failures))}
			}
			if report.Coverage < threshold {
				return &exitError{code: 2, err: fmt.Errorf("policy coverage %.2f%% is under %.2f%%",
					report.Coverage, threshold)}
			}
			return nil
		},
	}
	cmd.Flags().Float64Var(&threshold, "threshold", policy.DefaultCoverageThreshold,
		"minimum coverage in percent")
	return cmd
}

func newPolicyCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check [dir]",
		Short: "Compile the policies strictly and check their formatting",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := dirArg(args)
			b, err := policy.Load(dir)
			if err != nil {
				return err
			}
			if err := policy.Check(b); err != nil {
				return &exitError{code: 2, err: errors.Join(errors.New("policy check failed"), err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d files, strict compile and formatting clean\n",
				dir, len(b.Modules))
			return nil
		},
	}
}

func dirArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return defaultPolicyDir
}
