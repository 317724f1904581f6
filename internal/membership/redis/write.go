package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/rolegate/rolegate/internal/membership"
)

//go:embed apply.lua
var applySource string

// applyScript makes every write: preconditions, changes, the revision bump and the
// invalidation, in one atomic script.
var applyScript = goredis.NewScript(applySource)

// Results of apply.lua other than a revision.
const (
	resultConflict  = -1
	resultExists    = -2
	resultNotFound  = -3
	resultNotTenant = -4
)

// errConflict means a write's precondition failed because another write came first;
// the write is read and tried again.
var errConflict = errors.New("conflicting write")

// batch is one write for apply.lua: its keys, preconditions, operations and the
// invalidation it publishes.
type batch struct {
	k     keys
	keys  []string
	index map[string]string // key → its 1-based position in keys
	ops   []any

	wantRev, versionOf, version, absent, tenant string
	inv                                         changes
}

func (s *Store) newBatch() *batch {
	b := &batch{k: s.keys, index: make(map[string]string)}
	for _, k := range []string{s.keys.rev, s.keys.versions, s.keys.workspaces} {
		b.key(k)
	}
	return b
}

func (b *batch) key(k string) string {
	if i, ok := b.index[k]; ok {
		return i
	}
	b.keys = append(b.keys, k)
	i := strconv.Itoa(len(b.keys))
	b.index[k] = i
	return i
}

func (b *batch) op(op, key, field, value string) {
	b.ops = append(b.ops, op, b.key(key), field, value)
}

func (b *batch) putMembership(m membership.Membership) {
	v := encode(m)
	b.op("hset", b.k.workspace(m.Workspace), m.User, v)
	b.op("hset", b.k.user(m.User), m.Workspace, v)
}

func (b *batch) deleteMembership(workspace, user string) {
	b.op("hdel", b.k.workspace(workspace), user, "")
	b.op("hdel", b.k.user(user), workspace, "")
}

// touch records that the write changes the workspace, for Update's precondition.
func (b *batch) touch(workspace string) { b.op("hsetrev", b.k.versions, workspace, "") }

func (b *batch) args() []any {
	// The script adds the revision to the message.
	head := []any{b.k.invalidation, encode(b.inv), b.wantRev, b.versionOf, b.version, b.absent, b.tenant}
	return append(head, b.ops...)
}

// apply runs the batch and returns the new revision. Afterwards the store's own
// cache no longer holds what the write changed.
func (s *Store) apply(ctx context.Context, b *batch) (uint64, error) {
	res, err := applyScript.Run(ctx, s.client, b.keys, b.args()...).Int64()
	if err != nil {
		return 0, unavailable(err)
	}
	switch res {
	case resultConflict:
		return 0, errConflict
	case resultExists:
		return 0, membership.ErrExists
	case resultNotFound:
		return 0, membership.ErrNotFound
	case resultNotTenant:
		return 0, membership.ErrNotTenant
	}
	rev := uint64(res)
	s.written(ctx, rev, b.inv)
	return rev, nil
}

// written makes the store's own answers reflect its write at rev: the cache drops
// what it changed at once, and the write waits a moment for its invalidation.
func (s *Store) written(ctx context.Context, rev uint64, inv changes) {
	if inv.All {
		s.cache.forgetAll(rev)
	} else {
		s.cache.forget(rev, inv.Workspaces, inv.Users)
	}
	if !s.cache.live.Load() {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, s.cfg.SyncWait)
	applied := s.waitApplied(wctx, rev)
	cancel()
	if applied && !inv.All {
		s.refill(ctx, inv)
	}
}

// refillLimit bounds the facts a write reads back into the cache: a small write is
// usually followed by a decision about what it changed, a large one is not.
const refillLimit = 8

// refill starts reading back what a small write changed, in the background, so that
// the next decision about it finds the facts cached or joins the read under way
// instead of waiting for a read of its own. What is read is at least the write's
// revision, and the cache admits it by the usual rules.
func (s *Store) refill(ctx context.Context, inv changes) {
	if len(inv.Workspaces)+len(inv.Users) > refillLimit {
		return
	}
	for _, id := range inv.Workspaces {
		s.startWorkspace(ctx, id)
	}
	for _, user := range inv.Users {
		s.startUser(ctx, user)
	}
}

// CreateWorkspace implements membership.Store.
func (s *Store) CreateWorkspace(ctx context.Context, w membership.Workspace,
	first []membership.Membership,
) (uint64, error) {
	if err := membership.CheckCreate(w, first); err != nil {
		return 0, err
	}
	b := s.newBatch()
	b.absent = w.ID
	if w.Type == membership.TypeDeveloper {
		b.tenant = w.Tenant
	}
	b.op("hset", s.keys.workspaces, w.ID, encode(w))
	b.touch(w.ID)
	b.inv.Workspaces = []string{w.ID}
	for _, m := range first {
		b.putMembership(m)
		b.inv.Users = append(b.inv.Users, m.User)
	}
	rev, err := s.apply(ctx, b)
	if errors.Is(err, membership.ErrNotFound) || errors.Is(err, membership.ErrNotTenant) {
		return 0, fmt.Errorf("create workspace %s: tenant %s: %w", w.ID, w.Tenant, err)
	}
	if err != nil {
		return 0, fmt.Errorf("create workspace %s: %w", w.ID, err)
	}
	return rev, nil
}

// Update implements membership.Store. fn runs on the members as read; the write
// commits only if the workspace's version is still the one read, else it reads
// again and fn runs again.
func (s *Store) Update(ctx context.Context, workspace string, fn func(tx *membership.Tx) error) (uint64, error) {
	for {
		tx, version, rev, err := s.begin(ctx, workspace)
		if err != nil {
			return 0, fmt.Errorf("update %s: %w", workspace, err)
		}
		if err := fn(tx); err != nil {
			return 0, err
		}
		puts, deletes, err := tx.Result()
		if err != nil {
			return 0, err
		}
		if len(puts) == 0 && len(deletes) == 0 {
			return rev, nil
		}
		b := s.updateBatch(workspace, version, puts, deletes)
		rev, err = s.apply(ctx, b)
		if !errors.Is(err, errConflict) {
			if err != nil {
				return 0, fmt.Errorf("update %s: %w", workspace, err)
			}
			return rev, nil
		}
	}
}

func (s *Store) updateBatch(workspace, version string, puts []membership.Membership, deletes []string) *batch {
	b := s.newBatch()
	b.versionOf, b.version = workspace, version
	for _, m := range puts {
		b.putMembership(m)
		b.inv.Users = append(b.inv.Users, m.User)
	}
	for _, user := range deletes {
		b.deleteMembership(workspace, user)
		b.inv.Users = append(b.inv.Users, user)
	}
	b.touch(workspace)
	return b
}

// begin reads the workspace, its members, its version and the revision at once.
func (s *Store) begin(ctx context.Context, workspace string) (*membership.Tx, string, uint64, error) {
	var get, version *goredis.StringCmd
	var all *goredis.MapStringStringCmd
	rev, err := s.readAt(ctx, func(p goredis.Pipeliner) {
		get = p.HGet(ctx, s.keys.workspaces, workspace)
		all = p.HGetAll(ctx, s.keys.workspace(workspace))
		version = p.HGet(ctx, s.keys.versions, workspace)
	})
	if err != nil {
		return nil, "", 0, err
	}
	if errors.Is(get.Err(), goredis.Nil) {
		return nil, "", 0, membership.ErrNotFound
	}
	w, err := decodeWorkspace(get.Val())
	if err != nil {
		return nil, "", 0, err
	}
	members := make(map[string]membership.Membership, len(all.Val()))
	for user, raw := range all.Val() {
		if members[user], err = decodeMembership(raw); err != nil {
			return nil, "", 0, err
		}
	}
	return membership.NewTx(w, members), version.Val(), rev, nil
}

// Import implements membership.Store. With replace it deletes every key the
// snapshot it read names, on condition that the revision did not move since.
func (s *Store) Import(ctx context.Context, d *membership.Data, replace bool) (uint64, error) {
	for {
		b := s.newBatch()
		b.inv.All = true
		if replace {
			if err := s.deleteAll(ctx, b); err != nil {
				return 0, fmt.Errorf("import: %w", err)
			}
		}
		touched := make(map[string]bool)
		for _, w := range d.Workspaces {
			b.op("hset", s.keys.workspaces, w.ID, encode(w))
			touched[w.ID] = true
		}
		for _, m := range d.Memberships {
			b.putMembership(m)
			touched[m.Workspace] = true
		}
		for id := range touched {
			b.touch(id)
		}
		rev, err := s.apply(ctx, b)
		if !errors.Is(err, errConflict) {
			if err != nil {
				return 0, fmt.Errorf("import: %w", err)
			}
			return rev, nil
		}
	}
}

// deleteAll adds to b the deletion of everything a snapshot holds, on condition
// that the revision stays the snapshot's.
func (s *Store) deleteAll(ctx context.Context, b *batch) error {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return err
	}
	b.wantRev = strconv.FormatUint(snap.rev, 10)
	b.op("del", s.keys.workspaces, "", "")
	b.op("del", s.keys.versions, "", "")
	users := make(map[string]bool)
	for id, fields := range snap.members {
		b.op("del", s.keys.workspace(id), "", "")
		for user := range fields {
			if !users[user] {
				users[user] = true
				b.op("del", s.keys.user(user), "", "")
			}
		}
	}
	return nil
}
