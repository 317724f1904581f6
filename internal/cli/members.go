package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/spf13/cobra"

	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/redis"
)

// cliRedisTimeout bounds each round trip of the members commands, which may move a
// whole data file in one command.
const cliRedisTimeout = time.Minute

func newMembersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "members",
		Short: "Import and export the memberships held in Redis",
	}
	cmd.AddCommand(newMembersImportCmd(), newMembersExportCmd())
	return cmd
}

// redisFlag is the --redis flag of the members commands.
func redisFlag(cmd *cobra.Command, url *string) {
	cmd.Flags().StringVar(url, "redis", "",
		"Redis URL: redis://host:port/db, rediss://..., unix:///path (default: $"+redis.EnvURL+")")
}

func newMembersImportCmd() *cobra.Command {
	var url, policyPath string
	var replace bool
	cmd := &cobra.Command{
		Use:   "import --redis URL FILE [--replace]",
		Short: "Load a membership data file into Redis, in one atomic write",
		Long: "Import validates the whole file against the policy's roles (without --replace,\n" +
			"the file merged with what Redis holds); on any problem it writes nothing.\n" +
			"Without --replace it adds and overwrites; with it Redis holds exactly the file.\n" +
			"Importing what Redis already holds writes nothing.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd, args[0], url, policyPath, replace)
		},
	}
	redisFlag(cmd, &url)
	policyFlag(cmd, &policyPath)
	cmd.Flags().BoolVar(&replace, "replace", false, "make Redis hold exactly the file's contents")
	return cmd
}

func runImport(cmd *cobra.Command, path, url, policyPath string, replace bool) error {
	p, err := compilePolicy(cmd.Context(), policyPath)
	if err != nil {
		return err
	}
	data, err := readData(path)
	if err != nil {
		return err
	}
	store, err := openRedis(url)
	if err != nil {
		return err
	}
	defer store.Close()

	msg, err := importData(cmd.Context(), store, data, p.Model().RoleTypes(), replace)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", path, msg)
	return err
}

func newMembersExportCmd() *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "export --redis URL",
		Short: "Print every workspace and membership in Redis as a membership data file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := openRedis(url)
			if err != nil {
				return err
			}
			defer store.Close()
			d, err := store.Export(cmd.Context())
			if err != nil {
				return err
			}
			return d.Encode(cmd.OutOrStdout())
		},
	}
	redisFlag(cmd, &url)
	return cmd
}

// openRedis opens the Redis store at url, or at $ROLEGATE_REDIS_URL, without a
// near cache, and checks that it answers.
func openRedis(url string) (*redis.Store, error) {
	cfg := redis.DefaultConfig()
	cfg.URL = url
	cfg.FromEnv(os.Getenv)
	if cfg.URL == "" {
		return nil, fmt.Errorf("no Redis: give --redis URL or set %s", redis.EnvURL)
	}
	cfg.CacheEnabled = false
	cfg.ReadTimeout, cfg.WriteTimeout, cfg.LookupTimeout = cliRedisTimeout, cliRedisTimeout, cliRedisTimeout
	store, err := redis.Open(cfg, nil)
	if err != nil {
		return nil, err
	}
	if err := store.Ping(context.Background()); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// readData decodes the membership data file at path. Its items' decoding problems are
// reported together; validation comes later, against what the import will leave.
func readData(path string) (*membership.Data, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := membership.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// importData validates d and imports it unless the store already holds it, and
// says what it did. Without replace, what is validated is d merged with the store's
// contents: d's own items first, at their indexes in the file, then the store's.
func importData(ctx context.Context, store membership.Store, d *membership.Data,
	roles membership.Roles, replace bool,
) (string, error) {
	current, err := store.Export(ctx)
	if err != nil {
		return "", err
	}
	if replace {
		if err := d.Validate(roles); err != nil {
			return "", err
		}
	} else if err := union(d, current).Validate(roles); err != nil {
		return "", fmt.Errorf("merged with what Redis holds (items past the file's own are Redis's): %w", err)
	}
	counts := fmt.Sprintf("%d workspaces, %d memberships", len(d.Workspaces), len(d.Memberships))
	if holds(current, d, replace) {
		rev, err := store.Revision(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("unchanged: Redis already holds its %s (revision %d)", counts, rev), nil
	}
	rev, err := store.Import(ctx, d, replace)
	if err != nil {
		return "", err
	}
	how := "merged"
	if replace {
		how = "replaced everything"
	}
	return fmt.Sprintf("imported %s, %s (revision %d)", counts, how, rev), nil
}

// merge returns base with d's workspaces and memberships added or overwritten, in
// base's order, then d's new ones: what Import without replace makes of base.
func merge(base, d *membership.Data) *membership.Data {
	ws := make(map[string]int)
	ms := make(map[[2]string]int)
	out := &membership.Data{
		Workspaces:  append([]membership.Workspace{}, base.Workspaces...),
		Memberships: append([]membership.Membership{}, base.Memberships...),
	}
	for i, w := range out.Workspaces {
		ws[w.ID] = i
	}
	for i, m := range out.Memberships {
		ms[[2]string{m.User, m.Workspace}] = i
	}
	for _, w := range d.Workspaces {
		if i, ok := ws[w.ID]; ok {
			out.Workspaces[i] = w
		} else {
			out.Workspaces = append(out.Workspaces, w)
		}
	}
	for _, m := range d.Memberships {
		if i, ok := ms[[2]string{m.User, m.Workspace}]; ok {
			out.Memberships[i] = m
		} else {
			out.Memberships = append(out.Memberships, m)
		}
	}
	return out
}

// union returns first's items, then rest's items that first does not have.
func union(first, rest *membership.Data) *membership.Data {
	out := &membership.Data{
		Workspaces:  append([]membership.Workspace{}, first.Workspaces...),
		Memberships: append([]membership.Membership{}, first.Memberships...),
	}
	ws := make(map[string]bool)
	for _, w := range first.Workspaces {
		ws[w.ID] = true
	}
	ms := make(map[[2]string]bool)
	for _, m := range first.Memberships {
		ms[[2]string{m.User, m.Workspace}] = true
	}
	for _, w := range rest.Workspaces {
		if !ws[w.ID] {
			out.Workspaces = append(out.Workspaces, w)
		}
	}
	for _, m := range rest.Memberships {
		if !ms[[2]string{m.User, m.Workspace}] {
			out.Memberships = append(out.Memberships, m)
		}
	}
	return out
}

// holds reports whether importing d would change nothing: with replace, current is
// d; without, current holds every item of d as it is.
func holds(current, d *membership.Data, replace bool) bool {
	if replace {
		want := union(d, &membership.Data{})
		want.Sort()
		return same(current, want)
	}
	return same(current, merge(current, d))
}

// same reports whether two data sets are equal item by item, in their order.
func same(a, b *membership.Data) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errors.Join(errA, errB) == nil && string(ja) == string(jb)
}
