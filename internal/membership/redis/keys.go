package redis

import (
	"fmt"
	"strconv"

	"github.com/go-json-experiment/json"

	"github.com/rolegate/rolegate/internal/membership"
)

// keys names the store's keys. Every key starts with the hash tag {namespace}, so all
// of them live in one Cluster slot and a script may write any of them atomically:
//
//	{ns}:rev          string  the membership revision, bumped once per write
//	{ns}:workspaces   hash    workspace id → workspace JSON
//	{ns}:versions     hash    workspace id → revision of its last change
//	{ns}:ws:<id>      hash    user id → membership JSON, the workspace's members
//	{ns}:user:<user>  hash    workspace id → membership JSON, the user's memberships
//	{ns}:invalidations        the pub/sub channel of invalidations
type keys struct {
	prefix                                  string
	rev, workspaces, versions, invalidation string
}

func newKeys(namespace string) keys {
	p := "{" + namespace + "}:"
	return keys{
		prefix:       p,
		rev:          p + "rev",
		workspaces:   p + "workspaces",
		versions:     p + "versions",
		invalidation: p + "invalidations",
	}
}

func (k keys) workspace(id string) string { return k.prefix + "ws:" + id }

func (k keys) user(user string) string { return k.prefix + "user:" + user }

// invalidation is the message every write publishes: its revision and what it
// changed. All means everything may have changed.
type invalidation struct {
	Rev     uint64 `json:"rev"`
	changes `json:",inline"`
}

// changes says which cached facts a write changes.
type changes struct {
	Workspaces []string `json:"workspaces,omitempty"`
	Users      []string `json:"users,omitempty"`
	All        bool     `json:"all,omitempty"`
}

func decodeInvalidation(payload string) (invalidation, error) {
	var inv invalidation
	if err := json.Unmarshal([]byte(payload), &inv); err != nil {
		return inv, fmt.Errorf("decode invalidation: %w", err)
	}
	if inv.Rev == 0 {
		return inv, fmt.Errorf("decode invalidation: no revision in %q", payload)
	}
	return inv, nil
}

func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// The store only encodes its own types, which always marshal.
		panic(fmt.Sprintf("redis: encode %T: %v", v, err))
	}
	return string(b)
}

func decodeWorkspace(s string) (membership.Workspace, error) {
	var w membership.Workspace
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return w, fmt.Errorf("decode workspace: %w", err)
	}
	return w, nil
}

func decodeMembership(s string) (membership.Membership, error) {
	var m membership.Membership
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return m, fmt.Errorf("decode membership: %w", err)
	}
	return m, nil
}

// parseRevision reads the revision counter's value; a missing counter is 0.
func parseRevision(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	rev, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("revision counter %q: %w", s, err)
	}
	return rev, nil
}
