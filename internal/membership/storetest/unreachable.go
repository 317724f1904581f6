package storetest

import (
	"context"
	"errors"

	"github.com/rolegate/rolegate/internal/membership"
)

// ErrDown is the error Unreachable fails with.
var ErrDown = errors.New("connection refused")

// Unreachable is a store that fails every call at once, as an unreachable one does:
// for tests of what callers do when facts cannot be read.
type Unreachable struct{}

var _ membership.Reader = Unreachable{}

// Workspace fails.
func (Unreachable) Workspace(context.Context, string) (membership.Workspace, error) {
	return membership.Workspace{}, ErrDown
}

// UserMemberships fails.
func (Unreachable) UserMemberships(context.Context, string) ([]membership.Membership, error) {
	return nil, ErrDown
}

// Revision fails.
func (Unreachable) Revision(context.Context) (uint64, error) { return 0, ErrDown }

// Sync fails.
func (Unreachable) Sync(context.Context, uint64) error { return ErrDown }

// Ping fails.
func (Unreachable) Ping(context.Context) error { return ErrDown }
