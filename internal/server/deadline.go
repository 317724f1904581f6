package server

import (
	"context"
	"sync"
	"time"
)

// deadlineContext ends at a deadline, as a context from context.WithDeadline does, but
// arms a timer only once something waits on Done. A decision answered from memory
// never waits, so it never pays for a timer; a read of Redis waits, and gets one.
// Err reports the deadline whether or not Done was ever asked for.
type deadlineContext struct {
	context.Context // the parent
	deadline        time.Time

	mu     sync.Mutex
	done   chan struct{} // made by the first Done
	err    error         // set once, by cancel
	timer  *time.Timer
	unhook func() bool // stops following the parent
}

// withDeadline returns a context that ends at deadline, or when parent ends, or when
// the returned function is called, whichever is first.
func withDeadline(parent context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c := &deadlineContext{Context: parent, deadline: deadline}
	return c, func() { c.cancel(context.Canceled) }
}

// Deadline reports when the context ends at the latest.
func (c *deadlineContext) Deadline() (time.Time, bool) { return c.deadline, true }

// Done returns a channel closed when the context ends; the first call arms the timer.
func (c *deadlineContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	if c.err == nil {
		c.err = c.endedErr()
	}
	if c.err != nil {
		close(c.done)
		return c.done
	}
	c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.cancel(context.DeadlineExceeded) })
	c.unhook = context.AfterFunc(c.Context, func() { c.cancel(c.Context.Err()) })
	return c.done
}

// Err returns nil while the context runs, then why it ended.
func (c *deadlineContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	return c.endedErr()
}

// endedErr reports why the context has ended without a cancel: its parent ended or
// the deadline passed; nil while it runs.
func (c *deadlineContext) endedErr() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// cancel ends the context with err, unless it has ended already, and releases its
// timer.
func (c *deadlineContext) cancel(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		if ended := c.endedErr(); ended != nil {
			err = ended
		}
		c.err = err
	}
	if c.done != nil {
		select {
		case <-c.done:
		default:
			close(c.done)
		}
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.unhook != nil {
		c.unhook()
	}
}
