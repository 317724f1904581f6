package redis

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rolegate/rolegate/internal/membership"
)

// A user's memberships are cached as one string: four bytes of fetch time, the user
// id (length-prefixed), then per membership the workspace id (length-prefixed), the role (one byte
// naming an interned string, or symInline and the string), a byte with the status
// and flags, and the assigned mini programs and the expiry when the flags say so.
// Decoding slices the strings out of the packed one, so a cache hit allocates only
// the result slice.

const (
	symInline = 0xFF // the string follows, length-prefixed, instead of a symbol

	statusMask   = 0b0011 // the status's code: statusCodes' index, or statusInline
	statusInline = 0b0011 // the status follows as a length-prefixed string
	flagPrograms = 0b0100
	flagExpires  = 0b1000

	// atLen is the size of the fetch time at the start of a packed string.
	atLen = 4
)

var statusCodes = [...]membership.Status{membership.StatusInvited, membership.StatusActive, membership.StatusBlocked}

// symbols interns the few strings that repeat in every membership (roles, statuses)
// as one-byte symbols. It only grows, up to symInline entries.
type symbols struct {
	mu    sync.Mutex
	index map[string]byte
	names atomic.Pointer[[]string]
}

func newSymbols() *symbols {
	s := &symbols{index: make(map[string]byte)}
	s.names.Store(&[]string{})
	return s
}

// code returns s's symbol, adding it when there is room; false: write it inline.
func (y *symbols) code(s string) (byte, bool) {
	y.mu.Lock()
	defer y.mu.Unlock()
	if c, ok := y.index[s]; ok {
		return c, true
	}
	names := *y.names.Load()
	if len(names) >= symInline {
		return 0, false
	}
	c := byte(len(names))
	y.index[s] = c
	grown := append(names[:len(names):len(names)], s)
	y.names.Store(&grown)
	return c, true
}

// packUser encodes the user's memberships, stamped with at (see nearCache.stamp).
func packUser(y *symbols, at uint32, user string, ms []membership.Membership) string {
	b := make([]byte, 0, atLen+len(user)+16*len(ms))
	b = binary.LittleEndian.AppendUint32(b, at)
	b = appendString(b, user)
	for _, m := range ms {
		b = appendString(b, m.Workspace)
		b = appendSymbol(b, y, m.Role)
		b = appendStatus(b, m)
		if len(m.MiniPrograms) > 0 {
			b = binary.AppendUvarint(b, uint64(len(m.MiniPrograms)))
			for _, p := range m.MiniPrograms {
				b = appendString(b, p)
			}
		}
		if !m.ExpiresAt.IsZero() {
			b = binary.AppendVarint(b, m.ExpiresAt.Unix())
			b = binary.AppendUvarint(b, uint64(m.ExpiresAt.Nanosecond()))
		}
	}
	return string(b)
}

// appendStatus writes the status and flags byte, and the status if it is unknown.
func appendStatus(b []byte, m membership.Membership) []byte {
	code := byte(statusInline)
	for i, st := range statusCodes {
		if m.Status == st {
			code = byte(i)
		}
	}
	if len(m.MiniPrograms) > 0 {
		code |= flagPrograms
	}
	if !m.ExpiresAt.IsZero() {
		code |= flagExpires
	}
	b = append(b, code)
	if code&statusMask == statusInline {
		b = appendString(b, string(m.Status))
	}
	return b
}

// packedAt returns the fetch time a packed string was stamped with.
func packedAt(packed string) uint32 {
	return uint32(packed[0]) | uint32(packed[1])<<8 | uint32(packed[2])<<16 | uint32(packed[3])<<24
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendSymbol(b []byte, y *symbols, s string) []byte {
	if c, ok := y.code(s); ok {
		return append(b, c)
	}
	return appendString(append(b, symInline), s)
}

// packedUser returns the user id a packed string holds.
func packedUser(packed string) string {
	d := decoder{s: packed, i: atLen}
	return d.string()
}

// unpackUser decodes what packUser encoded. The result's strings share the packed
// string's memory, and its mini program lists share one array, so a hit allocates
// two slices whatever the number of memberships.
func unpackUser(y *symbols, packed string) []membership.Membership {
	n, programs := countPacked(packed)
	if n == 0 {
		return nil
	}
	ms := make([]membership.Membership, 0, n)
	mps := make([]string, programs)
	d := decoder{s: packed, i: atLen, names: *y.names.Load()}
	user := d.string()
	for d.i < len(d.s) {
		m := membership.Membership{User: user, Workspace: d.string(), Role: d.symbol()}
		code := d.byte()
		if c := code & statusMask; c == statusInline {
			m.Status = membership.Status(d.string())
		} else {
			m.Status = statusCodes[c]
		}
		if code&flagPrograms != 0 {
			k := int(d.uvarint())
			m.MiniPrograms, mps = mps[:k:k], mps[k:]
			for i := range m.MiniPrograms {
				m.MiniPrograms[i] = d.string()
			}
		}
		if code&flagExpires != 0 {
			sec := d.varint()
			m.ExpiresAt = time.Unix(sec, int64(d.uvarint())).UTC()
		}
		ms = append(ms, m)
	}
	return ms
}

// countPacked returns how many memberships, and assigned mini programs in all, a
// packed string holds, so that unpackUser allocates each list once.
func countPacked(packed string) (memberships, programs int) {
	d := decoder{s: packed, i: atLen}
	d.string() // the user
	for d.i < len(d.s) {
		memberships++
		d.string() // the workspace
		if d.byte() == symInline {
			d.string()
		}
		code := d.byte()
		if code&statusMask == statusInline {
			d.string()
		}
		if code&flagPrograms != 0 {
			k := int(d.uvarint())
			programs += k
			for range k {
				d.string()
			}
		}
		if code&flagExpires != 0 {
			d.varint()
			d.uvarint()
		}
	}
	return memberships, programs
}

// decoder reads what packUser wrote; the input is the store's own, so it is trusted.
type decoder struct {
	s     string
	i     int
	names []string
}

func (d *decoder) byte() byte {
	c := d.s[d.i]
	d.i++
	return c
}

func (d *decoder) uvarint() uint64 {
	var v uint64
	for shift := 0; ; shift += 7 {
		c := d.byte()
		v |= uint64(c&0x7F) << shift
		if c < 0x80 {
			return v
		}
	}
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (d *decoder) string() string {
	n := int(d.uvarint())
	s := d.s[d.i : d.i+n]
	d.i += n
	return s
}

func (d *decoder) symbol() string {
	c := d.byte()
	if c == symInline {
		return d.string()
	}
	return d.names[c]
}
