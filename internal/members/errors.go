package members

import (
	"fmt"
	"strings"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
)

// Kind is the class of a lifecycle error; the HTTP layer maps each to a status.
type Kind int

// Kinds of lifecycle errors.
const (
	KindInvalid     Kind = iota + 1 // the request itself is wrong
	KindForbidden                   // the policy refused the actor
	KindNotFound                    // the workspace, member or invitation does not exist
	KindConflict                    // the current state does not allow the change
	KindUnavailable                 // the store could not be reached
)

// Error is a lifecycle failure with a stable code and a message for people.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// Reasons are the policy's reasons, for KindForbidden.
	Reasons []engine.Reason
	err     error
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func (e *Error) Unwrap() error { return e.err }

func invalid(format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: "invalid_field", Message: fmt.Sprintf(format, args...)}
}

func notFound(code, format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

func conflict(code, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

// refusal is the policy's denial as an error: the code of its first reason, and every
// reason's message.
func refusal(d *authz.Decision) *Error {
	e := &Error{Kind: KindForbidden, Code: "forbidden", Reasons: d.Reasons, err: d.Err}
	msgs := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		msgs[i] = r.Message
	}
	if len(d.Reasons) > 0 {
		e.Code = d.Reasons[0].Code
	}
	e.Message = strings.Join(msgs, "; ")
	return e
}
