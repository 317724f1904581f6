package cli

import (
	"fmt"
	"os"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/spf13/cobra"

	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/policy"
)

func newBundleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Build and inspect OPA bundles of the policy",
	}
	cmd.AddCommand(newBundleBuildCmd(), newBundleInspectCmd())
	return cmd
}

func newBundleBuildCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "build [dir] -o FILE",
		Short: "Build a bundle from a policy directory (tests left out)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := dirArg(args)
			b, err := policy.Load(dir)
			if err != nil {
				return err
			}
			if _, err := engine.Compile(cmd.Context(), b); err != nil {
				return err
			}
			if err := bundle.WriteFile(output, b); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: revision %s\n", output, b.Manifest.Revision)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "bundles/rolegate.tar.gz", "bundle file to write")
	return cmd
}

func newBundleInspectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect FILE",
		Short: "Print a bundle's manifest and contents as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			b, err := bundle.Read(f)
			if err != nil {
				return err
			}
			out, err := json.Marshal(bundle.Inspect(b), jsontext.WithIndent("  "))
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out)
			return err
		},
	}
}
