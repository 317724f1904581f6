package engine

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/rolegate/rolegate/internal/membership"
)

// DefaultDecisionCacheSize is the number of decisions a policy remembers by default.
const DefaultDecisionCacheSize = 1 << 16

const cacheShards = 32

// decisionCache remembers a policy's answers keyed by the whole input: the request and
// every fact the policy is given. A membership change makes a different key, and a new
// policy revision is a new Policy with a cache of its own, so an entry can never
// answer for older data or an older policy. Evaluations that read the clock are not
// cached. A shard that fills up is emptied: memory stays bounded, and a working set
// that fits is kept.
type decisionCache struct {
	shards   [cacheShards]cacheShard
	seed     maphash.Seed
	perShard int
	hits     atomic.Uint64
	misses   atomic.Uint64
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]Decision
}

func newDecisionCache(size int) *decisionCache {
	if size <= 0 {
		return nil
	}
	c := &decisionCache{seed: maphash.MakeSeed(), perShard: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]Decision)
	}
	return c
}

func (c *decisionCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

func (c *decisionCache) get(key []byte) (Decision, bool) {
	s := c.shard(key)
	s.mu.RLock()
	d, ok := s.m[string(key)]
	s.mu.RUnlock()
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return d, ok
}

func (c *decisionCache) put(key []byte, d Decision) {
	s := c.shard(key)
	s.mu.Lock()
	if len(s.m) >= c.perShard {
		clear(s.m)
	}
	s.m[string(key)] = d
	s.mu.Unlock()
}

// CacheStats counts the decision cache's lookups.
type CacheStats struct {
	Hits   uint64 `json:"hits"`
	Misses uint64 `json:"misses"`
}

// CacheStats returns the policy's decision cache counters; zero when it has none.
func (p *Policy) CacheStats() CacheStats {
	if p.cache == nil {
		return CacheStats{}
	}
	return CacheStats{Hits: p.cache.hits.Load(), Misses: p.cache.misses.Load()}
}

var keyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// appendKey writes everything the policy sees of in, unambiguously: strings are length
// prefixed, values carry their type, attributes are in name order. It reports false
// when an attribute has a type it cannot write, and the input is then not cached.
func appendKey(b []byte, in *Input) ([]byte, bool) {
	b = appendString(b, in.Subject)
	b = appendString(b, in.Action)
	b = appendString(b, in.Resource.Workspace)
	b = appendString(b, in.Resource.ID)
	b, ok := appendAttributes(b, in.Resource.Attributes)
	if !ok {
		return b, false
	}
	if w := in.Facts.Workspace; w != nil {
		b = append(b, 'w')
		b = appendString(b, w.Type)
		b = appendString(b, w.Tenant)
	} else {
		b = append(b, '-')
	}
	b = binary.AppendUvarint(b, uint64(len(in.Facts.Memberships)))
	for i := range in.Facts.Memberships {
		b = appendMembership(b, &in.Facts.Memberships[i])
	}
	return b, true
}

func appendMembership(b []byte, m *membership.Membership) []byte {
	b = appendString(b, m.Workspace)
	b = appendString(b, m.Role)
	b = appendString(b, string(m.Status))
	b = binary.AppendUvarint(b, uint64(len(m.MiniPrograms)))
	for _, id := range m.MiniPrograms {
		b = appendString(b, id)
	}
	return b
}

func appendAttributes(b []byte, attrs map[string]any) ([]byte, bool) {
	b = binary.AppendUvarint(b, uint64(len(attrs)))
	if len(attrs) == 0 {
		return b, true
	}
	var stack [8]string
	names := stack[:0]
	for k := range attrs {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		b = appendString(b, k)
		var ok bool
		if b, ok = appendValue(b, attrs[k]); !ok {
			return b, false
		}
	}
	return b, true
}

func appendValue(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case string:
		return appendString(append(b, 's'), v), true
	case bool:
		if v {
			return append(b, 't'), true
		}
		return append(b, 'f'), true
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 'n'), math.Float64bits(v)), true
	case int:
		return binary.BigEndian.AppendUint64(append(b, 'n'), math.Float64bits(float64(v))), true
	case int64:
		return binary.BigEndian.AppendUint64(append(b, 'n'), math.Float64bits(float64(v))), true
	case nil:
		return append(b, 'z'), true
	}
	return b, false
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
