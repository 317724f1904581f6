package redis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/rolegate/rolegate/internal/membership"
)

// Workspace implements membership.Reader: from the cache when it holds the fact
// fresh, else from Redis, which concurrent callers share.
func (s *Store) Workspace(ctx context.Context, id string) (membership.Workspace, error) {
	f, err := s.lookupWorkspace(ctx, id).result(ctx, s)
	if err != nil {
		return membership.Workspace{}, err
	}
	if !f.found {
		return membership.Workspace{}, membership.ErrNotFound
	}
	return f.w, nil
}

// UserMemberships implements membership.Reader, sorted by workspace: from the cache
// when it holds them fresh, else from Redis, which concurrent callers share.
func (s *Store) UserMemberships(ctx context.Context, user string) ([]membership.Membership, error) {
	return s.lookupUser(ctx, user).result(ctx, s)
}

// Facts implements membership.FactsReader: the workspace and the user's memberships,
// each as Workspace and UserMemberships give it, with the reads of Redis they need
// sent together, so that a decision waits for one lookup deadline at most.
func (s *Store) Facts(ctx context.Context, workspace, user string,
) (*membership.Workspace, []membership.Membership, error) {
	wl, ul := s.lookupWorkspace(ctx, workspace), s.lookupUser(ctx, user)
	if !wl.cached || !ul.cached {
		var cancel context.CancelFunc
		ctx, cancel = s.bounded(ctx)
		defer cancel()
	}
	f, err := wl.result(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	ms, err := ul.result(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	if !f.found {
		return nil, ms, nil
	}
	return &f.w, ms, nil
}

// lookup is a fact found in the cache, or a read of Redis under way for it; what and
// key name the fact in errors.
type lookup[T any] struct {
	what, key string
	val       T
	cached    bool
	read      pending[T]
}

// result waits for the read, if any, and returns the fact.
func (l lookup[T]) result(ctx context.Context, s *Store) (T, error) {
	if l.cached {
		return l.val, nil
	}
	v, err := l.read.wait(ctx, s)
	if err != nil {
		s.stats.errors.Add(1)
		return v, fmt.Errorf("%s %s: %w", l.what, l.key, err)
	}
	return v, nil
}

func (s *Store) lookupWorkspace(ctx context.Context, id string) lookup[workspaceFact] {
	l := lookup[workspaceFact]{what: "workspace", key: id}
	if w, found, ok := s.cache.workspace(id); ok {
		s.stats.hits.Add(1)
		l.val, l.cached = workspaceFact{w: w, found: found}, true
		return l
	}
	s.stats.misses.Add(1)
	l.read = s.startWorkspace(ctx, id)
	return l
}

func (s *Store) lookupUser(ctx context.Context, user string) lookup[[]membership.Membership] {
	l := lookup[[]membership.Membership]{what: "memberships of", key: user}
	if ms, ok := s.cache.user(user); ok {
		s.stats.hits.Add(1)
		l.val, l.cached = ms, true
		return l
	}
	s.stats.misses.Add(1)
	l.read = s.startUser(ctx, user)
	return l
}

// startWorkspace starts reading the workspace from Redis, or joins the read under way.
func (s *Store) startWorkspace(ctx context.Context, id string) pending[workspaceFact] {
	return start(ctx, s, "w:"+id, func(ctx context.Context) (workspaceFact, uint64, error) {
		return s.fetchWorkspace(ctx, id)
	})
}

// startUser starts reading the user's memberships from Redis, or joins the read
// under way.
func (s *Store) startUser(ctx context.Context, user string) pending[[]membership.Membership] {
	return start(ctx, s, "u:"+user, func(ctx context.Context) ([]membership.Membership, uint64, error) {
		return s.fetchUser(ctx, user)
	})
}

type workspaceFact struct {
	w     membership.Workspace
	found bool
}

// fetched is what a shared read returns: the value and the revision it was read at.
type fetched[T any] struct {
	val T
	rev uint64
}

// pending is a read of key through fetch, shared with concurrent callers of the same
// key. The shared read runs on a context of its own, detached from every caller's
// cancellation and bounded by fetchTimeout; each caller waits on its own ctx, at most
// the lookup deadline. A read that outlives its callers still caches what it read.
// A caller never takes a value older than the revision the store had reached when
// it asked: one that joined an earlier read reads again.
type pending[T any] struct {
	floor uint64
	ch    <-chan singleflight.Result
	fetch func(context.Context) (T, uint64, error)
}

func start[T any](ctx context.Context, s *Store, key string, fetch func(context.Context) (T, uint64, error),
) pending[T] {
	floor := s.cache.applied.Load()
	ch := s.group.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.fetchTimeout())
		defer cancel()
		v, rev, err := fetch(fctx)
		return fetched[T]{val: v, rev: rev}, err
	})
	return pending[T]{floor: floor, ch: ch, fetch: fetch}
}

// wait returns the read's value, or the error of the read or of ctx; it waits at
// most the lookup deadline.
func (p pending[T]) wait(ctx context.Context, s *Store) (T, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	var zero T
	select {
	case r := <-p.ch:
		if r.Err != nil {
			return zero, r.Err
		}
		if f := r.Val.(fetched[T]); f.rev >= p.floor {
			return f.val, nil
		}
	case <-ctx.Done():
		return zero, unavailable(ctx.Err())
	}
	v, _, err := p.fetch(ctx)
	return v, err
}

// fetchWorkspace reads the workspace and the revision in one transaction, and caches
// the fact when the cache admits it.
func (s *Store) fetchWorkspace(ctx context.Context, id string) (workspaceFact, uint64, error) {
	s.stats.fetches.Add(1)
	t := s.cache.ticket()
	var get *goredis.StringCmd
	rev, err := s.readAt(ctx, func(p goredis.Pipeliner) { get = p.HGet(ctx, s.keys.workspaces, id) })
	if err != nil {
		return workspaceFact{}, 0, err
	}
	var f workspaceFact
	if raw, err := get.Result(); err == nil {
		if f.w, err = decodeWorkspace(raw); err != nil {
			return workspaceFact{}, 0, err
		}
		f.found = true
	}
	s.cache.putWorkspace(t, rev, id, f.w, f.found)
	s.adoptUnsubscribed(rev)
	return f, rev, nil
}

// fetchUser reads the user's memberships and the revision in one transaction, and
// caches them when the cache admits them.
func (s *Store) fetchUser(ctx context.Context, user string) ([]membership.Membership, uint64, error) {
	s.stats.fetches.Add(1)
	t := s.cache.ticket()
	var all *goredis.MapStringStringCmd
	rev, err := s.readAt(ctx, func(p goredis.Pipeliner) { all = p.HGetAll(ctx, s.keys.user(user)) })
	if err != nil {
		return nil, 0, err
	}
	ms, err := decodeMemberships(all.Val())
	if err != nil {
		return nil, 0, err
	}
	slices.SortFunc(ms, func(a, b membership.Membership) int { return cmp.Compare(a.Workspace, b.Workspace) })
	s.cache.putUser(t, rev, user, ms)
	s.adoptUnsubscribed(rev)
	return ms, rev, nil
}

// adoptUnsubscribed takes the revision a fact was read at as the store's while no
// invalidations arrive to keep it: Redis answers, so what the cache kept from before
// the loss of the subscription is dropped once Redis has moved past it, and the
// subscription is tried again at once.
func (s *Store) adoptUnsubscribed(rev uint64) {
	if !s.cache.live.Load() {
		s.cache.adopt(rev)
		s.redisAnswered()
	}
}

// readAt runs the reads queue adds in one MULTI/EXEC with a read of the revision, so
// the values are those at the revision returned. Redis's nil reply is not an error.
func (s *Store) readAt(ctx context.Context, queue func(goredis.Pipeliner)) (uint64, error) {
	var get *goredis.StringCmd
	_, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		queue(p)
		get = p.Get(ctx, s.keys.rev)
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return 0, unavailable(err)
	}
	return parseRevision(get.Val())
}

func decodeMemberships(fields map[string]string) ([]membership.Membership, error) {
	ms := make([]membership.Membership, 0, len(fields))
	for _, raw := range fields {
		m, err := decodeMembership(raw)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// Revision implements membership.Reader. With the cache on, it is the revision the
// cache reflects, without a round trip: kept up by invalidations while subscribed,
// and otherwise by the reads of facts, which adopt the revision they read at. Before
// any is known, and with the cache off, it is read from Redis.
func (s *Store) Revision(ctx context.Context) (uint64, error) {
	if rev := s.cache.applied.Load(); s.cfg.CacheEnabled && rev > 0 || s.cache.live.Load() {
		return rev, nil
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	rev, err := s.readRevision(ctx)
	if err != nil {
		return 0, err
	}
	s.cache.adopt(rev)
	return rev, nil
}

func (s *Store) readRevision(ctx context.Context) (uint64, error) {
	v, err := s.client.Get(ctx, s.keys.rev).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return 0, unavailable(err)
	}
	return parseRevision(v)
}

// Members implements membership.Store, sorted by user; it always reads Redis.
func (s *Store) Members(ctx context.Context, workspace string) ([]membership.Membership, error) {
	var exists *goredis.BoolCmd
	var all *goredis.MapStringStringCmd
	_, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		exists = p.HExists(ctx, s.keys.workspaces, workspace)
		all = p.HGetAll(ctx, s.keys.workspace(workspace))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("members of %s: %w", workspace, unavailable(err))
	}
	if !exists.Val() {
		return nil, fmt.Errorf("members of %s: %w", workspace, membership.ErrNotFound)
	}
	ms, err := decodeMemberships(all.Val())
	if err != nil {
		return nil, fmt.Errorf("members of %s: %w", workspace, err)
	}
	slices.SortFunc(ms, func(a, b membership.Membership) int { return cmp.Compare(a.User, b.User) })
	return ms, nil
}

// Export implements membership.Store: everything at one revision.
func (s *Store) Export(ctx context.Context) (*membership.Data, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	d := &membership.Data{Workspaces: []membership.Workspace{}, Memberships: []membership.Membership{}}
	for _, raw := range snap.workspaces {
		w, err := decodeWorkspace(raw)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		d.Workspaces = append(d.Workspaces, w)
	}
	for _, fields := range snap.members {
		ms, err := decodeMemberships(fields)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		d.Memberships = append(d.Memberships, ms...)
	}
	d.Sort()
	return d, nil
}

// snapshot is every workspace and membership as stored, at one revision.
type snapshot struct {
	rev        uint64
	workspaces map[string]string            // id → JSON
	members    map[string]map[string]string // workspace → user → JSON
}

// maxSnapshotAttempts bounds the reads of a snapshot while writes keep coming.
const maxSnapshotAttempts = 20

// snapshot reads the workspaces, then their members; it is consistent when the
// revision did not move between the two reads, and read again when it did.
func (s *Store) snapshot(ctx context.Context) (snapshot, error) {
	for range maxSnapshotAttempts {
		var snap snapshot
		var wsAll *goredis.MapStringStringCmd
		rev, err := s.readAt(ctx, func(p goredis.Pipeliner) { wsAll = p.HGetAll(ctx, s.keys.workspaces) })
		if err != nil {
			return snap, err
		}
		snap.workspaces = wsAll.Val()
		ids := slices.Sorted(maps.Keys(snap.workspaces))
		cmds := make([]*goredis.MapStringStringCmd, len(ids))
		snap.rev, err = s.readAt(ctx, func(p goredis.Pipeliner) {
			for i, id := range ids {
				cmds[i] = p.HGetAll(ctx, s.keys.workspace(id))
			}
		})
		if err != nil {
			return snap, err
		}
		if snap.rev != rev {
			continue
		}
		snap.members = make(map[string]map[string]string, len(ids))
		for i, id := range ids {
			snap.members[id] = cmds[i].Val()
		}
		return snap, nil
	}
	return snapshot{}, errors.New("the data kept changing while it was read")
}
