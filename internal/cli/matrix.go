package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rolegate/rolegate/internal/matrix"
)

func newMatrixCmd() *cobra.Command {
	var policyPath, format string
	cmd := &cobra.Command{
		Use:   "matrix [--format markdown|json]",
		Short: "Print the role × operation table, computed from the policy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "markdown" && format != "json" {
				return fmt.Errorf("--format must be markdown or json, not %q", format)
			}
			p, err := compilePolicy(cmd.Context(), policyPath)
			if err != nil {
				return err
			}
			m, err := matrix.Compute(cmd.Context(), p)
			if err != nil {
				return err
			}
			out := m.Markdown()
			if format == "json" {
				if out, err = m.JSON(); err != nil {
					return err
				}
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	policyFlag(cmd, &policyPath)
	cmd.Flags().StringVar(&format, "format", "markdown", "output format: markdown or json")
	return cmd
}
