package decisionlog_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/decisionlog"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/membership/storetest"
	"github.com/rolegate/rolegate/internal/policy"
	"github.com/rolegate/rolegate/test/domain"
)

// clock is a fixed evaluation time with nanoseconds and a zone other than UTC.
var clock = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

func service(t *testing.T, w io.Writer, store membership.Reader) *authz.Service {
	t.Helper()
	b, err := policy.Load("")
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.Compile(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return authz.NewService(engine.New(p), store,
		authz.WithRecorder(decisionlog.New(w)), authz.WithClock(func() time.Time { return clock }))
}

// readAll reads every decision of the log.
func readAll(log string) ([]decisionlog.Entry, int, error) {
	r := decisionlog.NewReader(strings.NewReader(log))
	var entries []decisionlog.Entry
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return entries, r.Other(), nil
		}
		if err != nil {
			return entries, r.Other(), err
		}
		entries = append(entries, e)
	}
}

// TestRoundTrip checks that a logged decision reads back as the input the policy was
// given: the request, the facts and the evaluation time.
func TestRoundTrip(t *testing.T) {
	requests := []authz.Request{
		{
			Subject: domain.Member("developer", membership.StatusActive), Action: "miniprogram:update",
			Resource: authz.Resource{
				Workspace: domain.DeveloperHome, ID: domain.AssignedMP,
				Attributes: map[string]any{
					"environment": "production", "approved": true, "published_miniprograms": 2.0,
				},
			},
		},
		{Subject: "u-nobody", Action: "workspace:view", Resource: authz.Resource{Workspace: "dw-gone"}},
	}
	var buf bytes.Buffer
	world := domain.World()
	svc := service(t, &buf, memory.New(world))
	var decisions []authz.Decision
	for i := range requests {
		decisions = append(decisions, svc.Decide(context.Background(), &requests[i]))
	}

	entries, other, err := readAll(buf.String())
	if err != nil || other != 0 || len(entries) != len(requests) {
		t.Fatalf("read %d entries, %d other lines, error %v; want %d entries",
			len(entries), other, err, len(requests))
	}
	for i, e := range entries {
		d := decisions[i]
		want := &engine.Input{
			Subject: requests[i].Subject, Action: requests[i].Action,
			Resource: engine.Resource{
				Workspace: requests[i].Resource.Workspace, ID: requests[i].Resource.ID,
				Attributes: requests[i].Resource.Attributes,
			},
			Facts: d.Facts,
			Time:  clock,
		}
		if diff := cmp.Diff(want, e.Input()); diff != "" {
			t.Errorf("decision %d: input (-given +read):\n%s", i, diff)
		}
		if e.Line != i+1 || e.DecisionID != d.ID || e.Allow != d.Allow || e.Reasons[0] != d.Reasons[0].Code {
			t.Errorf("decision %d: read %+v, decided %+v", i, e, d)
		}
	}
}

func TestRecordsFailures(t *testing.T) {
	var buf bytes.Buffer
	svc := service(t, &buf, storetest.Unreachable{})
	svc.Decide(context.Background(), &authz.Request{
		Subject: "u", Action: "workspace:view", Resource: authz.Resource{Workspace: "tw"},
	})
	entries, _, err := readAll(buf.String())
	if err != nil || len(entries) != 1 {
		t.Fatalf("read %d entries: %v", len(entries), err)
	}
	e := entries[0]
	wantReasons := []string{authz.CodeMembershipUnavailable}
	if e.Allow || !cmp.Equal(e.Reasons, wantReasons) || !strings.Contains(e.Error, storetest.ErrDown.Error()) {
		t.Fatalf("entry %+v; want a denial for membership_unavailable with its error", e)
	}
}
