package server

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDeadlineContextEndsWithoutAWaiter(t *testing.T) {
	ctx, cancel := withDeadline(context.Background(), time.Now().Add(20*time.Millisecond))
	defer cancel()
	if err := ctx.Err(); err != nil {
		t.Fatalf("Err before the deadline = %v", err)
	}
	time.Sleep(30 * time.Millisecond)
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err after the deadline = %v, want DeadlineExceeded", err)
	}
	select {
	case <-ctx.Done():
	default:
		t.Fatal("Done asked for after the deadline is not closed")
	}
}

func TestDeadlineContextDoneClosesAtTheDeadline(t *testing.T) {
	start := time.Now()
	ctx, cancel := withDeadline(context.Background(), start.Add(30*time.Millisecond))
	defer cancel()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed 5 s after a 30 ms deadline")
	}
	if waited := time.Since(start); waited < 30*time.Millisecond {
		t.Fatalf("Done closed after %v, before the deadline", waited)
	}
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err = %v, want DeadlineExceeded", err)
	}
}

func TestDeadlineContextFollowsItsParent(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.Background())
	ctx, cancel := withDeadline(parent, time.Now().Add(time.Hour))
	defer cancel()
	child, cancelChild := context.WithTimeout(ctx, time.Hour)
	defer cancelChild()
	cancelParent()
	for _, c := range []context.Context{ctx, child} {
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("not ended 5 s after the parent was cancelled")
		}
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Err = %v, want Canceled", err)
		}
	}
}

func TestDeadlineContextCancel(t *testing.T) {
	ctx, cancel := withDeadline(context.Background(), time.Now().Add(time.Hour))
	done := ctx.Done()
	cancel()
	cancel()
	select {
	case <-done:
	default:
		t.Fatal("Done not closed by cancel")
	}
	if err := ctx.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err = %v, want Canceled", err)
	}

	ctx, cancel = withDeadline(context.Background(), time.Now().Add(time.Hour))
	cancel()
	select {
	case <-ctx.Done():
	default:
		t.Fatal("Done asked for after cancel is not closed")
	}
}

func TestDeadlineContextTakesTheEarlierDeadline(t *testing.T) {
	early := time.Now().Add(time.Minute)
	parent, cancelParent := context.WithDeadline(context.Background(), early)
	defer cancelParent()
	type key struct{}
	parent = context.WithValue(parent, key{}, "v")
	ctx, cancel := withDeadline(parent, early.Add(time.Hour))
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || !d.Equal(early) {
		t.Fatalf("Deadline = %v, %v; want the parent's %v", d, ok, early)
	}
	if ctx.Value(key{}) != "v" {
		t.Fatal("the parent's values are lost")
	}
	later := time.Now().Add(time.Second)
	if ctx, cancel := withDeadline(parent, later); true {
		defer cancel()
		if d, _ := ctx.Deadline(); !d.Equal(later) {
			t.Fatalf("Deadline = %v, want its own %v", d, later)
		}
	}
}

func BenchmarkRequestDeadline(b *testing.B) {
	parent := context.Background()
	b.Run("lazy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := withDeadline(parent, time.Now().Add(time.Second))
			_ = ctx.Err()
			cancel()
		}
	})
	b.Run("context.WithTimeout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(parent, time.Second)
			_ = ctx.Err()
			cancel()
		}
	})
}
