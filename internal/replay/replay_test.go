package replay_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/decisionlog"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/membership/storetest"
	"github.com/rolegate/rolegate/internal/replay"
	"github.com/rolegate/rolegate/test/domain"
)

const modelPath = "rolegate/model/model.rego"

// editedModel takes miniprogram:update away from developers and gives workspace
// reviewers analytics:view_performance in their tenant and its merchants.
var editedModel = []edit{
	{modelPath, "\t\t\t\"miniprogram:update\": \"assigned\",\n", ""},
	{
		modelPath, "\"title\": \"Workspace Reviewer\",\n\t\t\"workspace_type\": \"tenant\",\n\t\t\"grants\": {\n",
		"\"title\": \"Workspace Reviewer\",\n\t\t\"workspace_type\": \"tenant\",\n\t\t\"grants\": {\n" +
			"\t\t\t\"analytics:view_performance\": \"merchants\",\n",
	},
}

func run(t *testing.T, log string, p *engine.Policy, opts replay.Options) *replay.Report {
	t.Helper()
	rep, err := replay.Run(context.Background(), strings.NewReader(log), p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// stableRevisions renders the report with its policy revisions replaced by names, so
// that golden files do not change with every edit of the policy.
func stableRevisions(rep *replay.Report, logged string) *replay.Report {
	c := *rep
	c.Candidate = "candidate"
	c.Logged = map[string]int{"built-in": rep.Logged[logged]}
	return &c
}

// failures returns the log of two decisions the policy did not make: one without
// membership facts and one without a policy.
func failures(t *testing.T) string {
	t.Helper()
	req := []authz.Request{{
		Subject: domain.Member("developer", membership.StatusActive), Action: "miniprogram:view",
		Resource: authz.Resource{Workspace: domain.DeveloperHome, ID: domain.AssignedMP},
	}}
	log := decide(t, storetest.Unreachable{}, stepClock(start), req)
	var noPolicy strings.Builder
	ids := &stableIDs{log: decisionlog.New(&noPolicy), n: 9000}
	svc := authz.NewService(engine.New(nil), memory.New(domain.World()),
		authz.WithRecorder(ids), authz.WithClock(stepClock(start)))
	svc.Decide(context.Background(), &req[0])
	return log + noPolicy.String()
}

func TestSamePolicyChangesNothing(t *testing.T) {
	p := builtIn(t)
	cases, err := domain.Cases()
	if err != nil {
		t.Fatal(err)
	}
	log := `{"time":"2025-01-15T09:29:59Z","level":"INFO","msg":"listening","addr":"127.0.0.1:8181"}` + "\n" +
		domainLog(t) + failures(t)

	rep := run(t, log, p, replay.Options{})
	want := &replay.Report{
		Candidate:  p.Revision(),
		Decisions:  len(cases) + 2,
		Logged:     map[string]int{p.Revision(): len(cases) + 1},
		OtherLines: 1,
		Skipped:    map[string]int{authz.CodeMembershipUnavailable: 1, authz.CodePolicyUnavailable: 1},
		Replayed:   len(cases),
	}
	if diff := cmp.Diff(want, rep, cmpopts.IgnoreFields(replay.Report{}, "First", "Last")); diff != "" {
		t.Fatalf("report (-want +got):\n%s", diff)
	}
	if !rep.First.Equal(start.Add(time.Millisecond)) {
		t.Errorf("first decision at %v, want %v", rep.First, start.Add(time.Millisecond))
	}

	var text strings.Builder
	if err := stableRevisions(rep, p.Revision()).WriteText(&text); err != nil {
		t.Fatal(err)
	}
	golden(t, "same_policy", text.String())
}

// TestEditedModel replays the domain's decisions against a bundle whose model takes
// a grant away from one role and gives another a new one.
func TestEditedModel(t *testing.T) {
	rep := run(t, domainLog(t), load(t, candidateBundle(t, editedModel...)), replay.Options{})

	// The developer loses update on its assigned mini program, asked about plainly and
	// as its own request; the reviewer gains the operation in its tenant (on an
	// assigned, an unassigned and no mini program, and on its own request) and in
	// the tenant's merchant, but not where it has no role or is blocked or invited.
	want := []*replay.Group{
		{Operation: "analytics:view_performance", Role: "workspace_reviewer", DenyToAllow: 5},
		{Operation: "miniprogram:update", Role: "developer", AllowToDeny: 2},
	}
	if diff := cmp.Diff(want, rep.Groups, cmpopts.IgnoreFields(replay.Group{}, "Examples")); diff != "" {
		t.Fatalf("groups (-want +got):\n%s", diff)
	}
	if rep.Changed != 7 || rep.AllowToDeny != 2 || rep.DenyToAllow != 5 {
		t.Errorf("changed %d (%d allow→deny, %d deny→allow), want 7 (2, 5)",
			rep.Changed, rep.AllowToDeny, rep.DenyToAllow)
	}
	// Still denied, for other reasons: the developer on an unassigned and on no mini
	// program (operation_not_granted, no longer not_assigned or resource_id_required)
	// and the reviewer in another tenant's merchant (other_tenant besides no_membership).
	if rep.ReasonsChanged != 3 {
		t.Errorf("%d decisions changed reasons only, want 3", rep.ReasonsChanged)
	}
	for _, g := range rep.Groups {
		if n := min(replay.DefaultExamples, g.AllowToDeny+g.DenyToAllow); len(g.Examples) != n {
			t.Errorf("%s/%s: %d examples, want %d", g.Operation, g.Role, len(g.Examples), n)
		}
		for _, c := range g.Examples {
			if c.Was.Allow == c.Now.Allow || c.Was.Allow != (g.AllowToDeny > 0) {
				t.Errorf("%s/%s: example %+v is not a change of the group", g.Operation, g.Role, c)
			}
		}
	}

	named := stableRevisions(rep, builtIn(t).Revision())
	var text strings.Builder
	if err := named.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	golden(t, "edited_model", text.String())
	js, err := named.JSON()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "edited_model.json", string(js))
}

// TestReportIsDeterministic checks that the number of workers changes nothing, not
// even which examples are shown. It replays the decisions of the two operations the
// edited model changes.
func TestReportIsDeterministic(t *testing.T) {
	var log strings.Builder
	for line := range strings.Lines(domainLog(t)) {
		if strings.Contains(line, `"action":"miniprogram:update"`) ||
			strings.Contains(line, `"action":"analytics:view_performance"`) {
			log.WriteString(line)
		}
	}
	p := load(t, candidateBundle(t, editedModel...))
	one := run(t, log.String(), p, replay.Options{Workers: 1, Examples: 1})
	many := run(t, log.String(), p, replay.Options{Workers: 8, Examples: 1})
	if diff := cmp.Diff(one, many); diff != "" {
		t.Fatalf("one worker (-) and eight (+) differ:\n%s", diff)
	}
	if one.Changed != 7 || len(one.Groups) != 2 {
		t.Fatalf("%d changed in %d groups, want 7 in 2", one.Changed, len(one.Groups))
	}
	for _, g := range one.Groups {
		if len(g.Examples) != 1 {
			t.Errorf("%s/%s: %d examples, want 1", g.Operation, g.Role, len(g.Examples))
		}
	}
	none := run(t, log.String(), p, replay.Options{Examples: -1})
	if none.Changed != one.Changed || len(none.Groups[0].Examples) != 0 {
		t.Errorf("with Examples -1: %d changed, %d examples; want %d and none",
			none.Changed, len(none.Groups[0].Examples), one.Changed)
	}
}

// TestReplayUsesTheLoggedTime replays decisions that depend on the time: a developer
// workspace with an upload 10 days ago cannot be deleted, one with an upload 40 days
// ago can. Evaluated today, both could.
func TestReplayUsesTheLoggedTime(t *testing.T) {
	at := time.Date(2025, 1, 15, 9, 30, 0, 0, time.UTC)
	deleteAfter := func(upload time.Time) authz.Request {
		return authz.Request{
			Subject: domain.Member("workspace_admin", membership.StatusActive),
			Action:  "developer_workspace:delete",
			Resource: authz.Resource{Workspace: domain.Merchant, Attributes: map[string]any{
				"published_miniprograms": 0, "last_upload_at": upload.Format(time.RFC3339),
			}},
		}
	}
	log := decide(t, memory.New(domain.World()), func() time.Time { return at }, []authz.Request{
		deleteAfter(at.AddDate(0, 0, -10)), deleteAfter(at.AddDate(0, 0, -40)),
	})
	if !strings.Contains(log, `"reasons":["recent_upload"]`) || !strings.Contains(log, `"allow":true`) {
		t.Fatalf("the log does not hold one recent upload and one allowed deletion:\n%s", log)
	}

	p := builtIn(t)
	if rep := run(t, log, p, replay.Options{}); rep.Replayed != 2 || rep.Changed != 0 {
		t.Fatalf("replayed %d, changed %d; want 2 and none", rep.Replayed, rep.Changed)
	}

	// The same decisions, logged 30 days later: the recent upload is old by then.
	later := strings.ReplaceAll(log, `"time":"2025-01-15T`, `"time":"2025-02-14T`)
	rep := run(t, later, p, replay.Options{})
	want := []*replay.Group{
		{Operation: "developer_workspace:delete", Role: "workspace_admin", DenyToAllow: 1},
	}
	if diff := cmp.Diff(want, rep.Groups, cmpopts.IgnoreFields(replay.Group{}, "Examples")); diff != "" {
		t.Fatalf("groups (-want +got):\n%s", diff)
	}
	c := rep.Groups[0].Examples[0]
	if c.DecisionID != "d-0001" || !cmp.Equal(c.Was.Reasons, []string{"recent_upload"}) {
		t.Fatalf("example %+v, want d-0001 denied for recent_upload", c)
	}
}

func TestReplayErrors(t *testing.T) {
	lines := strings.SplitAfter(domainLog(t), "\n")
	tests := []struct {
		name      string
		log       io.Reader
		candidate []edit
		wantErr   string
	}{
		{
			name:    "malformed decision line",
			log:     strings.NewReader(strings.Join(lines[:3], "") + lines[3][:120] + "\n" + lines[4]),
			wantErr: "line 4: malformed decision",
		},
		{
			name:    "unreadable log",
			log:     io.MultiReader(strings.NewReader(lines[0]), failingReader{}),
			wantErr: "line 2: disk on fire",
		},
		{
			name: "candidate that cannot decide",
			log:  strings.NewReader(strings.Join(lines[:5], "")),
			candidate: []edit{{
				"rolegate/authz/authz.rego", `decision := {"allow": allow, "reasons": reasons}`,
				`decision := {"allow": allow, "reasons": []}`,
			}},
			wantErr: "decide: policy result does not match the decision contract: reasons missing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := builtIn(t)
			if tt.candidate != nil {
				p = load(t, candidateBundle(t, tt.candidate...))
			}
			_, err := replay.Run(context.Background(), tt.log, p, replay.Options{Workers: 2})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestRole(t *testing.T) {
	merchant := &membership.Workspace{ID: "dw-m", Type: membership.TypeDeveloper, Tenant: "tw-t"}
	tenant := &membership.Workspace{ID: "tw-t", Type: membership.TypeTenant}
	// in returns memberships from workspace, role pairs; status does not matter.
	in := func(pairs ...string) []membership.Membership {
		var ms []membership.Membership
		for i := 0; i+1 < len(pairs); i += 2 {
			ms = append(ms, membership.Membership{
				User: "u", Workspace: pairs[i], Role: pairs[i+1], Status: membership.StatusBlocked,
			})
		}
		return ms
	}
	tests := []struct {
		name        string
		workspace   *membership.Workspace
		memberships []membership.Membership
		want        string
	}{
		{"member of the workspace", merchant, in("tw-t", "workspace_admin", "dw-m", "operator"), "operator"},
		{"member of its tenant", merchant, in("dw-x", "developer", "tw-t", "workspace_admin"), "workspace_admin"},
		{"member of a tenant workspace", tenant, in("tw-t", "workspace_reviewer"), "workspace_reviewer"},
		{"member elsewhere only", merchant, in("tw-x", "workspace_admin"), replay.RoleNone},
		{"unknown workspace", nil, in("tw-t", "workspace_admin"), replay.RoleNone},
		{"no memberships", merchant, nil, replay.RoleNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := "dw-m"
			if tt.workspace != nil {
				ws = tt.workspace.ID
			}
			e := &decisionlog.Entry{Resource: authz.Resource{Workspace: ws}}
			e.Facts.Workspace, e.Facts.Memberships = tt.workspace, tt.memberships
			if got := replay.Role(e); got != tt.want {
				t.Fatalf("Role = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReplaySkipsRefusalsBeforeThePolicy: a decision denied for membership data older
// than the caller asked for, or for a stale policy, was never put to the policy and
// carries no facts. Replaying it would compare the candidate with an empty world.
func TestReplaySkipsRefusalsBeforeThePolicy(t *testing.T) {
	req := authz.Request{
		Subject: domain.Member("developer", membership.StatusActive), Action: "miniprogram:view",
		Resource:    authz.Resource{Workspace: domain.DeveloperHome, ID: domain.AssignedMP},
		Consistency: &authz.Consistency{AtLeast: "999999"},
	}
	log := decide(t, memory.New(domain.World()), stepClock(start), []authz.Request{req})

	var stale strings.Builder
	eng := engine.New(nil)
	eng.ActivateUntil(builtIn(t), start)
	svc := authz.NewService(eng, memory.New(domain.World()),
		authz.WithRecorder(&stableIDs{log: decisionlog.New(&stale), n: 9000}),
		authz.WithClock(stepClock(start)))
	req.Consistency = nil
	svc.Decide(context.Background(), &req)
	log += stale.String()
	for _, code := range []string{authz.CodeStaleMembership, authz.CodePolicyStale} {
		if !strings.Contains(log, `"reasons":["`+code+`"]`) {
			t.Fatalf("the log holds no %s denial:\n%s", code, log)
		}
	}

	rep := run(t, log, builtIn(t), replay.Options{})
	want := map[string]int{authz.CodeStaleMembership: 1, authz.CodePolicyStale: 1}
	if diff := cmp.Diff(want, rep.Skipped); diff != "" || rep.Replayed != 0 || rep.ReasonsChanged != 0 {
		t.Fatalf("replayed %d, reasons changed %d, skipped (-want +got):\n%s",
			rep.Replayed, rep.ReasonsChanged, diff)
	}
}
