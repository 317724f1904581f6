package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/replay"
)

// Exit codes of replay.
const (
	exitChanged = 1
	exitFailed  = 2
)

type replayFlags struct {
	log, bundle, policy, format string
	allowChanges                bool
	examples                    int
}

func newReplayCmd() *cobra.Command {
	var f replayFlags
	cmd := &cobra.Command{
		Use:   "replay --log FILE|- --bundle FILE|--policy DIR [--format text|json] [--allow-changes]",
		Short: "Replay logged decisions against a candidate policy and list those that change",
		Long: "Replay evaluates every decision of a decision log again, against the candidate\n" +
			"policy, with the membership facts and the evaluation time it was made with, and\n" +
			"lists the decisions whose answer would change, by operation and role.\n\n" +
			"It exits 0 when no decision changes, 1 when some would (0 with --allow-changes)\n" +
			"and 2 on an error: an unreadable or malformed log, a bad candidate policy.",
		Args: func(cmd *cobra.Command, args []string) error {
			return failed(cobra.NoArgs(cmd, args))
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return runReplay(cmd, f) },
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return failed(err) })
	fl := cmd.Flags()
	fl.StringVar(&f.log, "log", "", "decision log file, or - for standard input (required)")
	fl.StringVar(&f.bundle, "bundle", "", "candidate policy as a bundle file")
	fl.StringVar(&f.policy, "policy", "", "candidate policy as a directory (or a bundle file)")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	fl.BoolVar(&f.allowChanges, "allow-changes", false, "exit 0 even when decisions change")
	fl.IntVar(&f.examples, "examples", replay.DefaultExamples, "example decisions shown per group")
	return cmd
}

// failed makes err end the command with exit code 2; nil stays nil.
func failed(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitFailed, err: err}
}

func runReplay(cmd *cobra.Command, f replayFlags) error {
	if err := f.validate(); err != nil {
		return failed(err)
	}
	rep, err := replayLog(cmd.Context(), cmd.InOrStdin(), f)
	if err != nil {
		return failed(err)
	}

	if err := writeReport(cmd.OutOrStdout(), rep, f.format); err != nil {
		return failed(err)
	}
	if rep.Decisions == 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "rolegate: %s holds no decisions: nothing was checked\n", f.log)
	}
	if rep.Changed > 0 && !f.allowChanges {
		return &exitError{code: exitChanged, err: fmt.Errorf(
			"%d of %d decisions would change (--allow-changes accepts them)", rep.Changed, rep.Replayed)}
	}
	return nil
}

func (f replayFlags) validate() error {
	var errs []error
	if f.log == "" {
		errs = append(errs, errors.New("--log is required: a decision log file, or - for standard input"))
	}
	if (f.bundle == "") == (f.policy == "") {
		errs = append(errs, errors.New("give the candidate policy: --bundle FILE or --policy DIR, one of them"))
	}
	if f.format != "text" && f.format != "json" {
		errs = append(errs, fmt.Errorf("--format must be text or json, not %q", f.format))
	}
	if f.examples < 0 {
		errs = append(errs, fmt.Errorf("--examples must be 0 or more, not %d", f.examples))
	}
	return errors.Join(errs...)
}

// replayLog compiles the candidate, then replays the log against it.
func replayLog(ctx context.Context, stdin io.Reader, f replayFlags) (*replay.Report, error) {
	p, err := candidatePolicy(ctx, f)
	if err != nil {
		return nil, err
	}
	log, name := stdin, "standard input"
	if f.log != "-" {
		file, err := os.Open(f.log)
		if err != nil {
			return nil, fmt.Errorf("open decision log: %w", err)
		}
		defer file.Close()
		log, name = file, f.log
	}

	examples := f.examples
	if examples == 0 {
		examples = -1 // replay.Options takes zero for its default
	}
	rep, err := replay.Run(ctx, log, p, replay.Options{Examples: examples})
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", name, err)
	}
	return rep, nil
}

func candidatePolicy(ctx context.Context, f replayFlags) (*engine.Policy, error) {
	path := f.policy
	if f.bundle != "" {
		path = f.bundle
		if info, err := os.Stat(path); err == nil && info.IsDir() {
			return nil, fmt.Errorf("--bundle %s is a directory: give it as --policy", path)
		}
	}
	p, err := compilePolicy(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("candidate policy: %w", err)
	}
	return p, nil
}

func writeReport(w io.Writer, rep *replay.Report, format string) error {
	if format == "text" {
		return rep.WriteText(w)
	}
	out, err := rep.JSON()
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}
