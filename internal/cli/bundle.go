package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	opabundle "github.com/open-policy-agent/opa/v1/bundle"
	"github.com/spf13/cobra"

	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/policy"
)

func newBundleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Build, sign, verify and inspect OPA bundles of the policy",
	}
	cmd.AddCommand(newBundleBuildCmd(), newBundleDataCmd(), newBundleVerifyCmd(), newBundleInspectCmd())
	return cmd
}

func newBundleBuildCmd() *cobra.Command {
	var output string
	var sign bundle.Signing
	cmd := &cobra.Command{
		Use:   "build [dir] -o FILE",
		Short: "Build a bundle from a policy directory (tests left out), signed with --signing-key",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := policy.Load(dirArg(args))
			if err != nil {
				return err
			}
			if _, err := engine.Compile(cmd.Context(), b); err != nil {
				return err
			}
			return writeBundle(cmd, output, b, sign)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "bundles/rolegate.tar.gz", "bundle file to write")
	signingFlags(cmd, &sign)
	return cmd
}

func newBundleDataCmd() *cobra.Command {
	var output, policyPath, dataPath string
	var sign bundle.Signing
	cmd := &cobra.Command{
		Use:   "data --data FILE -o FILE",
		Short: "Build a data bundle of the memberships, for a plain OPA server beside the policy bundle",
		Long: "Data writes the membership data file as data." + engine.DataRoot + ", in the layout the\n" +
			"policy reads when it is not given input.facts (see docs/policy.md), as a bundle\n" +
			"with root " + engine.DataRoot + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := compilePolicy(cmd.Context(), policyPath)
			if err != nil {
				return err
			}
			d, err := membership.LoadFile(dataPath, p.Model().RoleTypes())
			if err != nil {
				return err
			}
			b, err := bundle.DataBundle(engine.DataRoot, engine.MembershipsData(d))
			if err != nil {
				return err
			}
			return writeBundle(cmd, output, b, sign)
		},
	}
	policyFlag(cmd, &policyPath)
	cmd.Flags().StringVar(&dataPath, "data", "", "membership data file (required)")
	cmd.Flags().StringVarP(&output, "output", "o", "bundles/memberships.tar.gz", "bundle file to write")
	_ = cmd.MarkFlagRequired("data")
	signingFlags(cmd, &sign)
	return cmd
}

// signingFlags adds the flags of `opa build` that sign a bundle.
func signingFlags(cmd *cobra.Command, s *bundle.Signing) {
	f := cmd.Flags()
	f.StringVar(&s.KeyFile, "signing-key", "",
		"PEM private key (RS256, ES256) or file holding the HMAC secret (HS256); signs the bundle")
	f.StringVar(&s.Algorithm, "signing-alg", bundle.DefaultAlgorithm,
		"signing algorithm: "+strings.Join(bundle.SigningAlgorithms, ", "))
	f.StringVar(&s.KeyID, "signing-key-id", bundle.DefaultKeyID, "key id recorded in the signature")
	f.StringVar(&s.ClaimsFile, "claims-file", "", "JSON file of extra claims for the signature, such as scope")
}

// writeBundle signs b when a signing key is given, then writes it to path.
func writeBundle(cmd *cobra.Command, path string, b *opabundle.Bundle, s bundle.Signing) error {
	signed := ""
	if s.KeyFile != "" {
		var err error
		if b, err = bundle.Sign(b, s); err != nil {
			return err
		}
		signed = ", signed with " + s.Algorithm
	} else if cmd.Flags().Changed("claims-file") || cmd.Flags().Changed("signing-key-id") {
		return errors.New("--claims-file and --signing-key-id need --signing-key")
	}
	if err := bundle.WriteFile(path, b); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: revision %s%s\n", path, b.Manifest.Revision, signed)
	return nil
}

func newBundleVerifyCmd() *cobra.Command {
	var v bundle.Verification
	cmd := &cobra.Command{
		Use:   "verify FILE --verification-key FILE",
		Short: "Check a bundle's signature as OPA and rolegate's policy source do",
		Long: "Verify fails, saying why, on a bundle that is unsigned, signed with another key,\n" +
			"algorithm or scope, holds a file its signature does not cover, or a file whose\n" +
			"content differs from the signed digest.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return verifyBundle(cmd, args[0], v)
		},
	}
	f := cmd.Flags()
	f.StringVar(&v.KeyFile, "verification-key", "",
		"PEM public key or certificate (RS256, ES256, ...) or file holding the HMAC secret (required)")
	f.StringVar(&v.Algorithm, "verification-alg", bundle.DefaultAlgorithm, "algorithm of the verification key")
	f.StringVar(&v.KeyID, "verification-key-id", bundle.DefaultKeyID, "id of the verification key")
	f.StringVar(&v.Scope, "scope", "", "scope the signature must carry")
	_ = cmd.MarkFlagRequired("verification-key")
	return cmd
}

// verifyBundle checks the signature of the bundle at path; a bundle that fails the
// check exits 2.
func verifyBundle(cmd *cobra.Command, path string, v bundle.Verification) error {
	vc, err := v.Config()
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := bundle.ReadWith(f, bundle.ReadOptions{Verify: vc})
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%s: %w", path, err)}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: signature verified, revision %s, %d modules\n",
		path, b.Manifest.Revision, len(b.Modules))
	return nil
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
