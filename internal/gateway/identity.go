package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rolegate/rolegate/internal/auth"
)

// Header gives a request's values of a header, the name matched case-insensitively;
// http.Header is one.
type Header interface {
	Values(name string) []string
}

const authorizationHeader = "Authorization"

// errNoIdentity means the request carries no identity at all; errBadIdentity that
// it carries one that does not verify. Both answer 401.
var (
	errNoIdentity  = errors.New("no identity")
	errBadIdentity = errors.New("identity does not verify")
)

// errAmbiguousIdentity means an identity header is repeated, or merged into one
// value with commas by a proxy; the request is refused, not guessed at.
var errAmbiguousIdentity = errors.New("ambiguous identity")

// subject finds who the request is from: the trusted subject header when configured
// and present, else the bearer JWT. It returns errAmbiguousIdentity, errNoIdentity
// or errBadIdentity (wrapping the reason) when there is no single valid subject.
func (g *Gateway) subject(ctx context.Context, h Header) (string, error) {
	if name := g.cfg.TrustedSubjectHeader; name != "" {
		v, err := single(h, name)
		switch {
		case err != nil:
			return "", err
		case v != "":
			if err := validSubject(v); err != nil {
				return "", fmt.Errorf("%w: %s: %w", errBadIdentity, name, err)
			}
			return v, nil
		}
	}
	v, err := single(h, authorizationHeader)
	switch {
	case err != nil:
		return "", err
	case v == "":
		return "", errNoIdentity
	case g.jwt == nil:
		return "", fmt.Errorf("%w: bearer tokens are not configured", errBadIdentity)
	}
	token, err := auth.BearerToken([]string{v})
	if err != nil {
		return "", fmt.Errorf("%w: %w", errBadIdentity, err)
	}
	id, err := g.jwt.Verify(ctx, token)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errBadIdentity, err)
	}
	return id.Subject, nil
}

// single returns the one value of a header, "" when it is absent, and
// errAmbiguousIdentity when it is repeated or a proxy merged several into one.
func single(h Header, name string) (string, error) {
	if h == nil {
		return "", nil
	}
	values := h.Values(name)
	switch {
	case len(values) == 0:
		return "", nil
	case len(values) > 1 || strings.IndexByte(values[0], ',') >= 0:
		return "", fmt.Errorf("%w: the %s header appears more than once", errAmbiguousIdentity, name)
	}
	return values[0], nil
}

// validSubject checks a subject given by a trusted header.
func validSubject(s string) error {
	if len(s) > auth.MaxSubjectBytes || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return fmt.Errorf("not a subject of 1 to %d bytes of UTF-8 without surrounding space", auth.MaxSubjectBytes)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return errors.New("a control or format character in the subject")
		}
	}
	return nil
}
