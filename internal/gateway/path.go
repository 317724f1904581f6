package gateway

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on a request path, checked before anything else.
const (
	MaxPathBytes = 2048
	MaxSegments  = 32
)

// ErrInvalidPath wraps every reason a path is refused rather than matched.
var ErrInvalidPath = errors.New("invalid path")

// SplitURI splits a request target into its still-encoded path and its query, at the
// first "?". The query takes no part in matching. A "#" anywhere is refused: clients
// never send a fragment, so one is a sign of a confused or hostile sender.
func SplitURI(uri string) (path, query string, err error) {
	if strings.IndexByte(uri, '#') >= 0 {
		return "", "", fmt.Errorf("%w: a fragment (#) in the request target", ErrInvalidPath)
	}
	path, query, _ = strings.Cut(uri, "?")
	return path, query, nil
}

// CanonicalPath returns the one spelling of a still-encoded path that routes are
// matched against, or an error wrapping ErrInvalidPath when the path could be read
// in more than one way. The rules:
//
//   - The path starts with "/", has at most MaxPathBytes bytes and MaxSegments
//     segments, and no empty segment ("//", a final "/"), except the path "/".
//   - Raw bytes allowed are RFC 3986's unreserved and sub-delims characters, ":",
//     "@" and UTF-8; ";" (path parameters), "\", spaces, controls and every other
//     byte are refused.
//   - A percent-escape is decoded when it encodes a character that could have been
//     written raw with the same meaning (an allowed byte above) or a byte of a
//     multi-byte UTF-8 sequence. Every other escape is refused, among them %2F (/),
//     %5C (\), %25 (%, so nothing is ever decoded twice), %3F (?), %23 (#), %3B (;),
//     %00 and the other controls. A malformed escape ("%", "%4", "%u002F") is refused.
//   - After decoding, no segment is "." or "..", and the path is valid UTF-8 (so
//     overlong encodings such as %C0%AF are refused) without control or format
//     characters (such as U+202E, which reorders what people read).
//
// The result contains only allowed raw bytes, so CanonicalPath of a result is itself.
func CanonicalPath(raw string) (string, error) {
	if !strings.HasPrefix(raw, "/") {
		return "", fmt.Errorf("%w: does not start with /", ErrInvalidPath)
	}
	if len(raw) > MaxPathBytes {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidPath, MaxPathBytes)
	}
	if raw == "/" {
		return raw, nil
	}
	var c canonicalizer
	if err := c.scan(raw); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPath, err)
	}
	out := raw
	if c.decoding {
		out = c.decoded.String()
	}
	if err := c.check(out); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPath, err)
	}
	return out, nil
}

// canonicalizer scans a path once. Nothing is copied until the first escape, so a
// path without escapes is returned as it came.
type canonicalizer struct {
	decoded  strings.Builder
	decoding bool
	nonASCII bool
}

func (c *canonicalizer) scan(raw string) error {
	for i := 0; i < len(raw); i++ {
		b := raw[i]
		switch {
		case b == '%':
			d, err := unescape(raw, i)
			if err != nil {
				return err
			}
			if !c.decoding {
				c.decoding = true
				c.decoded.Grow(len(raw))
				c.decoded.WriteString(raw[:i])
			}
			c.decoded.WriteByte(d)
			c.nonASCII = c.nonASCII || d >= utf8.RuneSelf
			i += 2
			continue
		case b >= utf8.RuneSelf:
			c.nonASCII = true
		case b != '/' && !allowedRaw(b):
			return refusedByte(b)
		}
		if c.decoding {
			c.decoded.WriteByte(b)
		}
	}
	return nil
}

// check looks at the decoded path's segments and characters.
func (c *canonicalizer) check(path string) error {
	n := 0
	for seg := range strings.SplitSeq(path[1:], "/") {
		n++
		switch seg {
		case "":
			return errors.New("an empty segment (// or a final /)")
		case ".", "..":
			return fmt.Errorf("a %q segment", seg)
		}
	}
	if n > MaxSegments {
		return fmt.Errorf("more than %d segments", MaxSegments)
	}
	if !c.nonASCII {
		return nil
	}
	if !utf8.ValidString(path) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range path {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("control or format character %U", r)
		}
	}
	return nil
}

// unescape decodes the escape at raw[i] ('%'), when it may be decoded.
func unescape(raw string, i int) (byte, error) {
	if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
		return 0, errors.New("a malformed percent-escape")
	}
	d := unhex(raw[i+1])<<4 | unhex(raw[i+2])
	if d >= utf8.RuneSelf || allowedRaw(d) {
		return d, nil
	}
	return 0, fmt.Errorf("%%%02X, which encodes %s", d, describe(d))
}

func refusedByte(b byte) error {
	return fmt.Errorf("%s, which is not allowed in a path", describe(b))
}

func describe(b byte) string {
	switch {
	case b == ';':
		return "a path parameter (;)"
	case b == '/':
		return "a / inside a segment"
	case b == '\\':
		return "a backslash"
	case b == '%':
		return "a % (a double encoding)"
	case b < 0x20 || b == 0x7f:
		return fmt.Sprintf("a control character (0x%02X)", b)
	default:
		return fmt.Sprintf("%q", b)
	}
}

// allowedRaw reports whether b may appear raw in a segment: RFC 3986's unreserved
// and sub-delims characters, ":" and "@", less ";".
func allowedRaw(b byte) bool { return allowed[b] }

var allowed = func() (t [256]bool) {
	for _, b := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,=:@") {
		t[b] = true
	}
	return t
}()

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

func unhex(b byte) byte {
	switch {
	case b >= 'a':
		return b - 'a' + 10
	case b >= 'A':
		return b - 'A' + 10
	default:
		return b - '0'
	}
}
