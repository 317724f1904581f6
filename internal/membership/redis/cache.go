package redis

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rolegate/rolegate/internal/membership"
)

// numShards spreads the cache over this many locks.
const numShards = 64

// nearCache holds facts read from Redis in process memory: per user the packed
// memberships, per workspace the workspace or its absence, each with when it was
// read. It only admits a fact while it is live (subscribed to invalidations) and the
// fact was read at or after guard, so that no invalidation it has missed applies to it:
//
//   - an invalidation raises guard before it deletes its keys, and an insert checks
//     guard under the shard's lock, so a fact read before the write never outlives
//     the write's invalidation;
//   - losing the subscription turns live off and bumps epoch, and an insert checks
//     both, so nothing read before the loss enters after it.
//
// Losing the subscription keeps what is cached: while Redis cannot be reached, those
// facts still answer until they are maxAge old, as they would with the subscription.
// A new subscription, or a revision read from Redis past applied, empties the cache,
// since invalidations may have been missed meanwhile.
//
// applied is the revision whose invalidations have all been applied: every answer
// from the cache reflects at least it.
type nearCache struct {
	maxAge      uint32 // milliseconds
	maxPerShard int
	base        time.Time
	seed        maphash.Seed
	syms        *symbols
	shards      [numShards]shard

	mu      sync.Mutex // serializes the transitions below
	live    atomic.Bool
	epoch   atomic.Uint64
	guard   atomic.Uint64
	applied atomic.Uint64
	changed chan struct{} // closed when applied changes; guarded by mu
}

type shard struct {
	mu sync.RWMutex
	// users maps the user id's hash to packUser's encoding, which holds the id: a
	// key is 8 bytes, not a string, and a rare collision is a miss.
	users      map[uint64]string
	workspaces map[string]workspaceEntry
	_          [24]byte // keep shards on separate cache lines
}

type workspaceEntry struct {
	typ, tenant string
	at          uint32
	found       bool
}

func newNearCache(maxAge time.Duration, maxEntries int) *nearCache {
	c := &nearCache{
		maxAge:      uint32(max(1, maxAge.Milliseconds())),
		maxPerShard: max(1, maxEntries/numShards),
		base:        time.Now(),
		seed:        maphash.MakeSeed(),
		syms:        newSymbols(),
		changed:     make(chan struct{}),
	}
	for i := range c.shards {
		c.shards[i].users = make(map[uint64]string)
		c.shards[i].workspaces = make(map[string]workspaceEntry)
	}
	return c
}

// stamp is the monotonic time since the cache was made, in milliseconds, modulo
// 2³². Ages are differences of stamps, right for ages under 49 days: sweep removes
// every entry older than maxAge well before.
func (c *nearCache) stamp() uint32 { return uint32(time.Since(c.base).Milliseconds()) }

func (c *nearCache) shard(key string) *shard {
	return &c.shards[maphash.String(c.seed, key)%numShards]
}

// userShard returns the user's shard and key in it.
func (c *nearCache) userShard(user string) (*shard, uint64) {
	h := maphash.String(c.seed, user)
	return &c.shards[h%numShards], h
}

// fresh reports whether an entry stamped at may still be used.
func (c *nearCache) fresh(at uint32) bool { return c.stamp()-at <= c.maxAge }

// user returns the user's memberships when the cache holds them fresh.
func (c *nearCache) user(user string) ([]membership.Membership, bool) {
	sh, h := c.userShard(user)
	sh.mu.RLock()
	packed, ok := sh.users[h]
	sh.mu.RUnlock()
	if !ok || !c.fresh(packedAt(packed)) || packedUser(packed) != user {
		return nil, false
	}
	return unpackUser(c.syms, packed), true
}

// workspace returns the workspace, or found false for one that does not exist, when
// the cache holds the fact fresh.
func (c *nearCache) workspace(id string) (w membership.Workspace, found, ok bool) {
	sh := c.shard(id)
	sh.mu.RLock()
	e, ok := sh.workspaces[id]
	sh.mu.RUnlock()
	if !ok || !c.fresh(e.at) {
		return w, false, false
	}
	return membership.Workspace{ID: id, Type: e.typ, Tenant: e.tenant}, e.found, true
}

// ticket is what a read of Redis notes before it starts, for admits.
type ticket struct{ epoch uint64 }

func (c *nearCache) ticket() ticket { return ticket{epoch: c.epoch.Load()} }

// admits reports whether a fact read at revision rev with ticket t may enter the
// cache. The caller holds the shard's lock.
func (c *nearCache) admits(t ticket, rev uint64) bool {
	return c.live.Load() && c.epoch.Load() == t.epoch && rev >= c.guard.Load()
}

func (c *nearCache) putUser(t ticket, rev uint64, user string, ms []membership.Membership) {
	packed := packUser(c.syms, c.stamp(), user, ms)
	sh, h := c.userShard(user)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !c.admits(t, rev) {
		return
	}
	if _, ok := sh.users[h]; !ok {
		c.makeRoom(sh)
	}
	sh.users[h] = packed
}

func (c *nearCache) putWorkspace(t ticket, rev uint64, id string, w membership.Workspace, found bool) {
	e := workspaceEntry{typ: intern(w.Type), tenant: w.Tenant, found: found}
	sh := c.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !c.admits(t, rev) {
		return
	}
	if _, ok := sh.workspaces[id]; !ok {
		c.makeRoom(sh)
	}
	e.at = c.stamp()
	sh.workspaces[id] = e
}

// intern returns the workspace types as constants, so entries do not keep the
// decoded JSON's strings alive.
func intern(typ string) string {
	switch typ {
	case membership.TypeTenant:
		return membership.TypeTenant
	case membership.TypeDeveloper:
		return membership.TypeDeveloper
	}
	return typ
}

// makeRoom evicts an arbitrary entry from a full shard. The caller holds its lock.
func (c *nearCache) makeRoom(sh *shard) {
	if len(sh.users)+len(sh.workspaces) < c.maxPerShard {
		return
	}
	for k := range sh.users {
		delete(sh.users, k)
		return
	}
	for k := range sh.workspaces {
		delete(sh.workspaces, k)
		return
	}
}

// forget drops the entries a write at rev changes and keeps out anything read
// before it, without claiming that earlier invalidations arrived.
func (c *nearCache) forget(rev uint64, workspaces, users []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.guard.Store(max(c.guard.Load(), rev))
	c.delete(workspaces, users)
}

// delete drops the entries of the workspaces and users. The caller holds mu and has
// raised guard.
func (c *nearCache) delete(workspaces, users []string) {
	for _, id := range workspaces {
		sh := c.shard(id)
		sh.mu.Lock()
		delete(sh.workspaces, id)
		sh.mu.Unlock()
	}
	for _, u := range users {
		sh, h := c.userShard(u)
		sh.mu.Lock()
		delete(sh.users, h)
		sh.mu.Unlock()
	}
}

// clear empties every shard and bumps epoch, and returns how many entries it
// removed. The caller holds mu.
func (c *nearCache) clear() (removed int) {
	c.epoch.Add(1)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		removed += len(sh.users) + len(sh.workspaces)
		clear(sh.users)
		clear(sh.workspaces)
		sh.mu.Unlock()
	}
	return removed
}

// setApplied records rev as applied and wakes Sync's waiters. The caller holds mu.
func (c *nearCache) setApplied(rev uint64) {
	c.applied.Store(rev)
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitChange returns a channel closed at the next change of applied.
func (c *nearCache) waitChange() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// sweep removes the entries too old to be used.
func (c *nearCache) sweep() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for k, packed := range sh.users {
			if !c.fresh(packedAt(packed)) {
				delete(sh.users, k)
			}
		}
		for k, e := range sh.workspaces {
			if !c.fresh(e.at) {
				delete(sh.workspaces, k)
			}
		}
		sh.mu.Unlock()
	}
}

// entries counts the cached users and workspaces.
func (c *nearCache) entries() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		n += len(sh.users) + len(sh.workspaces)
		sh.mu.RUnlock()
	}
	return n
}

// apply applies the invalidation of the write at inv.Rev and reports whether it
// emptied the whole cache: for a write that changes everything, or when writes
// between applied and inv.Rev were missed.
func (c *nearCache) apply(inv invalidation) (emptied bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	applied := c.applied.Load()
	if inv.Rev <= applied {
		return false
	}
	c.guard.Store(max(c.guard.Load(), inv.Rev))
	emptied = inv.All || inv.Rev > applied+1
	if emptied {
		c.clear()
	} else {
		c.delete(inv.Workspaces, inv.Users)
	}
	c.setApplied(inv.Rev)
	return emptied
}

// lose stops admitting facts, as the subscription is gone and invalidations may be
// missed. What is cached stays, to be served until maxAge old while Redis is out of
// reach, and is emptied by the next establish or adopt.
func (c *nearCache) lose() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live.Store(false)
	c.epoch.Add(1)
}

// establish empties the cache and turns it on at rev, read from Redis after the
// subscription was confirmed: every later write's invalidation will arrive. It
// reports whether it dropped entries, kept from before a lost subscription.
func (c *nearCache) establish(rev uint64) (dropped bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	removed := c.clear()
	c.guard.Store(rev)
	c.setApplied(rev)
	c.live.Store(true)
	return removed > 0
}

// adopt takes rev, read from Redis, as the revision answers reflect from now on. It
// empties the cache, since invalidations up to rev have not arrived.
func (c *nearCache) adopt(rev uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev <= c.applied.Load() {
		return
	}
	c.guard.Store(max(c.guard.Load(), rev))
	c.clear()
	c.setApplied(rev)
}

// forgetAll empties the cache for a write at rev that changes everything.
func (c *nearCache) forgetAll(rev uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.guard.Store(max(c.guard.Load(), rev))
	c.clear()
}
