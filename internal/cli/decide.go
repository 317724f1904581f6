package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/go-json-experiment/json"
	"github.com/spf13/cobra"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
)

// maxInputBytes bounds the request decide reads.
const maxInputBytes = 1 << 20

type decideOutput struct {
	Allow   bool            `json:"allow"`
	Reasons []engine.Reason `json:"reasons"`
}

func newDecideCmd() *cobra.Command {
	var policyPath, dataPath, inputPath string
	cmd := &cobra.Command{
		Use:   "decide --data FILE --input FILE",
		Short: "Make one decision offline and print it as JSON",
		Long: "Decide reads one request ({subject, action, resource}) and answers it from the\n" +
			"membership data file. It exits 0 whether the request is allowed or denied.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := compilePolicy(cmd.Context(), policyPath)
			if err != nil {
				return err
			}
			data, err := membership.LoadFile(dataPath, p.Model().RoleTypes())
			if err != nil {
				return err
			}
			req, err := readRequest(cmd.InOrStdin(), inputPath)
			if err != nil {
				return err
			}

			d := authz.NewService(engine.New(p), memory.New(data)).Decide(cmd.Context(), req)
			if d.Err != nil {
				return fmt.Errorf("decide: %w", d.Err)
			}
			out, err := json.Marshal(decideOutput{Allow: d.Allow, Reasons: d.Reasons})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out)
			return err
		},
	}
	policyFlag(cmd, &policyPath)
	cmd.Flags().StringVar(&dataPath, "data", "", "membership data file (required)")
	cmd.Flags().StringVar(&inputPath, "input", "", "request file, or - for standard input (required)")
	_ = cmd.MarkFlagRequired("data")
	_ = cmd.MarkFlagRequired("input")
	return cmd
}

func readRequest(stdin io.Reader, path string) (*authz.Request, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read input: %w", err)
	}
	if len(raw) > maxInputBytes {
		return nil, fmt.Errorf("read input: larger than %d bytes", maxInputBytes)
	}
	return authz.DecodeRequest(raw)
}
