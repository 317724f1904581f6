package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/membership/redis"
	"github.com/rolegate/rolegate/internal/membership/storetest"
	"github.com/rolegate/rolegate/test/domain"
	"github.com/rolegate/rolegate/test/redistest"
)

// Members of every workspace of the escalation world that the attempts act on.
const (
	activeTarget  = "u-target"
	blockedTarget = "u-target-blocked"
	invitedTarget = "u-target-invited"
)

// adminRole and memberRole give, per workspace type, the admin role and a role
// without member management.
var (
	adminRole = map[string]string{
		membership.TypeTenant: "workspace_admin", membership.TypeDeveloper: "developer_admin",
	}
	memberRole = map[string]string{
		membership.TypeTenant: "workspace_operator", membership.TypeDeveloper: "operator",
	}
)

// escalationWorld is the specification's world (each role active, blocked and invited
// in its home workspace) with, in every workspace, members to act on and an active
// admin of its own ("u-boss-<workspace>") for the control.
func escalationWorld() *membership.Data {
	d := domain.World()
	expires := time.Now().Add(membership.InvitationTTL).UTC()
	for _, w := range d.Workspaces {
		role := memberRole[w.Type]
		d.Memberships = append(d.Memberships,
			membership.Membership{
				User: boss(w.ID), Workspace: w.ID, Role: adminRole[w.Type], Status: membership.StatusActive,
			},
			membership.Membership{User: activeTarget, Workspace: w.ID, Role: role, Status: membership.StatusActive},
			membership.Membership{User: blockedTarget, Workspace: w.ID, Role: role, Status: membership.StatusBlocked},
			membership.Membership{
				User: invitedTarget, Workspace: w.ID, Role: role, Status: membership.StatusInvited,
				ExpiresAt: expires,
			},
		)
	}
	d.Sort()
	return d
}

func boss(workspace string) string { return "u-boss-" + workspace }

// memberOp is one operation of the membership API, as a request on a workspace.
type memberOp struct {
	name string
	// request returns the method, target and body of the operation in w by actor.
	request opRequest
	// self is true for operations on the actor's own membership.
	self bool
}

// opRequest returns the method, target and body of an operation in w by actor.
type opRequest func(w membership.Workspace, actor string) (method, target, body string)

func memberOps() []memberOp {
	ws := func(w membership.Workspace, rest string) string { return "/v1/workspaces/" + w.ID + rest }
	on := func(name, method, rest, user string) memberOp {
		return memberOp{name: name, request: func(w membership.Workspace, _ string) (string, string, string) {
			return method, ws(w, fmt.Sprintf(rest, user)), ""
		}}
	}
	self := func(name, method, rest string) memberOp {
		req := func(w membership.Workspace, actor string) (string, string, string) {
			return method, ws(w, fmt.Sprintf(rest, actor)), ""
		}
		return memberOp{name: name, self: true, request: req}
	}
	grant := func(name, user string, isSelf bool) memberOp {
		req := func(w membership.Workspace, actor string) (string, string, string) {
			if isSelf {
				user = actor
			}
			return "PUT", ws(w, "/members/"+user+"/role"), `{"role":"` + adminRole[w.Type] + `"}`
		}
		return memberOp{name: name, self: isSelf, request: req}
	}
	invite := func(name string, isSelf bool) memberOp {
		req := func(w membership.Workspace, actor string) (string, string, string) {
			user := "u-fresh"
			if isSelf {
				user = actor
			}
			return "POST", ws(w, "/invitations"), `{"user":"` + user + `","role":"` + adminRole[w.Type] + `"}`
		}
		return memberOp{name: name, self: isSelf, request: req}
	}
	return []memberOp{
		invite("invite an admin", false),
		invite("invite oneself as admin", true),
		on("resend", "POST", "/invitations/%s/resend", invitedTarget),
		on("withdraw", "DELETE", "/invitations/%s", invitedTarget),
		on("accept another's invitation", "POST", "/invitations/%s/accept", invitedTarget),
		grant("make another admin", activeTarget, false),
		grant("make oneself admin", "", true),
		on("block", "POST", "/members/%s/block", activeTarget),
		self("block oneself", "POST", "/members/%s/block"),
		on("unblock", "POST", "/members/%s/unblock", blockedTarget),
		self("unblock oneself", "POST", "/members/%s/unblock"),
		on("remove", "DELETE", "/members/%s", activeTarget),
		self("remove oneself", "DELETE", "/members/%s"),
		{name: "list", request: func(w membership.Workspace, _ string) (string, string, string) {
			return "GET", ws(w, "/members"), ""
		}},
	}
}

// attempt is one request that must not change anything.
type attempt struct {
	name                 string
	actor                string // a user id, or serviceCaller
	method, target, body string
	// want is the refusal expected: 403, or 409 for an admin inviting themselves,
	// which the policy lets through and the lifecycle refuses as already a member.
	want int
}

// escalationAttempts returns every membership API request of every member of the
// specification's world (each role, active, blocked and invited) in every workspace,
// but those the member may make: an active admin managing others in its own
// workspace, and an active member listing its own workspace. It adds the service
// token on every member operation and every user creating a workspace.
func escalationAttempts(d *membership.Data) []attempt {
	var out []attempt
	for _, m := range d.Memberships {
		if !strings.HasPrefix(m.User, "u-"+m.Role) {
			continue // the targets and bosses are acted on, not actors
		}
		for _, w := range d.Workspaces {
			for _, op := range memberOps() {
				home, isAdmin := w.ID == m.Workspace, m.Role == adminRole[w.Type]
				active := m.Status == membership.StatusActive
				manages := isAdmin && !op.self && op.name != "accept another's invitation"
				if active && home && (manages || op.name == "list") {
					continue
				}
				want := http.StatusForbidden
				if active && home && isAdmin && op.name == "invite oneself as admin" {
					want = http.StatusConflict
				}
				method, target, body := op.request(w, m.User)
				out = append(out, attempt{
					name:  fmt.Sprintf("%s (%s %s) %s in %s", m.User, m.Status, m.Role, op.name, w.ID),
					actor: m.User, method: method, target: target, body: body, want: want,
				})
			}
		}
		out = append(out, attempt{
			name: m.User + " creates a workspace", actor: m.User, method: "POST", target: "/v1/workspaces",
			body: `{"id":"tw-mine","type":"tenant","admins":[{"user":"` + m.User + `"}]}`, want: http.StatusForbidden,
		})
	}
	for _, w := range d.Workspaces {
		for _, op := range memberOps() {
			if op.self {
				continue
			}
			method, target, body := op.request(w, "")
			out = append(out, attempt{
				name: "the service token: " + op.name + " in " + w.ID, actor: serviceCaller,
				method: method, target: target, body: body, want: http.StatusForbidden,
			})
		}
	}
	return out
}

// escalationStores opens each kind of membership store with the data.
func escalationStores(t *testing.T, d *membership.Data) map[string]membership.Store {
	t.Helper()
	srv := redistest.Start(t, redistest.Options{})
	cfg := redis.DefaultConfig()
	cfg.URL, cfg.Namespace = srv.URL(), "escalation"
	cfg.LookupTimeout, cfg.ReadTimeout, cfg.WriteTimeout = 5*time.Second, 5*time.Second, 5*time.Second
	rs, err := redis.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	rev, err := rs.Import(context.Background(), d, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Sync(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	return map[string]membership.Store{"memory": memory.New(d), "redis": rs}
}

// TestMembershipAPIEscalation makes every attempt of escalationAttempts through the
// membership API, on the embedded store and on a real Redis: none may succeed, each
// is refused as expected, and the data is exactly as before. The active admin of
// each workspace then makes the same changes, which succeed: the attempts were
// refused for who made them, not for what they asked.
func TestMembershipAPIEscalation(t *testing.T) {
	world := escalationWorld()
	attempts := escalationAttempts(world)
	for name, store := range escalationStores(t, world) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, bundletest.Compile(t, nil), store)
			before := export(t, store)
			allowed, statuses := 0, map[int]int{}
			tokens := map[string]string{}
			for _, a := range attempts {
				if tokens[a.actor] == "" {
					tokens[a.actor] = f.credential(t, a.actor)
				}
				status, body := f.do(a.method, a.target, a.body, tokens[a.actor])
				statuses[status]++
				if status < 300 {
					allowed++
				}
				if _, err := errorCode([]byte(body)); status != a.want || err != nil {
					t.Errorf("%s: %d %s, want %d", a.name, status, body, a.want)
				}
			}
			if diff := storetest.Diff(before, export(t, store)); diff != "" {
				t.Errorf("the attempts changed the data (-before +after):\n%s", diff)
			}
			t.Logf("%d attempts, %d allowed; statuses %v", len(attempts), allowed, statuses)
			adminsManage(t, f, world)
		})
	}
}

// adminsManage has the active admin of every workspace make the changes the attempts
// asked for; each must succeed.
func adminsManage(t *testing.T, f *adminFixture, d *membership.Data) {
	t.Helper()
	for _, w := range d.Workspaces {
		for _, op := range memberOps() {
			if op.self || op.name == "accept another's invitation" {
				continue
			}
			method, target, body := op.request(w, boss(w.ID))
			if op.name == "make another admin" {
				body = `{"role":"` + memberRole[w.Type] + `"}` // unchanged role, a write all the same
			}
			status, answer := f.do(method, target, body, f.bearer(t, boss(w.ID)))
			if status >= 300 {
				t.Errorf("control: %s's %s in %s: %d %s", boss(w.ID), op.name, w.ID, status, answer)
			}
		}
	}
}

func export(t *testing.T, s membership.Store) *membership.Data {
	t.Helper()
	d, err := s.Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// escalationSituations are the situations of the specification's cases in which a
// member reaches beyond what its role grants; every one of their cases denies.
var escalationSituations = []string{
	"developer_workspace_of_another_tenant", "tenant_workspace_of_another_tenant",
	"tenant_workspace_of_own_tenant", "blocked_member", "invited_member",
}

// escalationCases returns the decision cases of escalation: of the specification's
// cases, a tenant role in a developer workspace of another tenant or in another
// tenant, a developer role in its tenant, in another developer workspace of its
// tenant or in another tenant's, a blocked or invited member, and approving or
// rejecting one's own request, in one's workspace or a merchant's.
func escalationCases(t testing.TB) []domain.Case {
	t.Helper()
	all, err := domain.Cases()
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.Case
	for _, c := range all {
		situation := c.Name[strings.LastIndex(c.Name, "/")+1:]
		developerRole := !domain.TenantRoles[strings.Split(c.Name, "/")[1]]
		ownRequest := situation == "own_workspace,_own_request" &&
			(c.Request.Action == "approval:approve" || c.Request.Action == "approval:reject")
		if slices.Contains(escalationSituations, situation) || ownRequest ||
			(developerRole && situation == "developer_workspace_of_own_tenant") {
			out = append(out, c)
		}
		if ownRequest && domain.TenantRoles[strings.Split(c.Name, "/")[1]] {
			merchant := c
			merchant.Name += "_in_a_merchant"
			merchant.Request.Resource.Workspace = domain.Merchant
			out = append(out, merchant)
		}
	}
	for _, c := range out {
		if c.Allow {
			t.Fatalf("escalation case %s is allowed by the specification", c.Name)
		}
	}
	return out
}

// TestDecisionEscalation asks every decision endpoint every escalation case of the
// specification: each endpoint must deny each one. The same endpoints allow cases
// the specification allows, so that the denials prove something.
func TestDecisionEscalation(t *testing.T) {
	world := escalationWorld()
	f := newFixtureOn(t, bundletest.Compile(t, nil), memory.New(world))
	cases, controls, endpoints := escalationCases(t), allowedCases(t), decisionEndpoints()
	attempts, allowed := 0, 0
	for _, ep := range endpoints {
		answers := ep.ask(t, f, cases)
		for i, allow := range answers {
			attempts++
			if allow {
				allowed++
				t.Errorf("%s allowed %s", ep.target, cases[i].Name)
			}
		}
		for i, allow := range ep.ask(t, f, controls) {
			if !allow {
				t.Errorf("control: %s denied %s", ep.target, controls[i].Name)
			}
		}
	}
	t.Logf("%d escalation cases × %d endpoints: %d attempts, %d allowed", len(cases),
		len(endpoints), attempts, allowed)
}

// allowedCases are a sample of the specification's cases that allow.
func allowedCases(t testing.TB) []domain.Case {
	t.Helper()
	all, err := domain.Cases()
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.Case
	for i, c := range all {
		if c.Allow && i%20 == 0 {
			out = append(out, c)
		}
	}
	return out
}

// ask asks the endpoint about every case and returns the answers, in order.
func (ep decisionEndpoint) ask(t testing.TB, f *adminFixture, cases []domain.Case) []bool {
	t.Helper()
	var out []bool
	for start := 0; start < len(cases); start += ep.per {
		chunk := cases[start:min(start+ep.per, len(cases))]
		rec := call(f.srv.Handler(), "POST", ep.target, jsonType, ep.body(t, chunk))
		answers := ep.answers(t, rec.Body.Bytes())
		if rec.Code != http.StatusOK || len(answers) != len(chunk) || strings.Contains(rec.Body.String(), `"error"`) {
			t.Fatalf("%s: %d %s", ep.target, rec.Code, rec.Body)
		}
		out = append(out, answers...)
	}
	return out
}

// decisionEndpoint asks an endpoint about cases, per at a time.
type decisionEndpoint struct {
	target  string
	per     int
	body    func(t testing.TB, cases []domain.Case) string
	answers func(t testing.TB, body []byte) []bool
}

func decisionEndpoints() []decisionEndpoint {
	return []decisionEndpoint{
		{"/v1/decisions", 1, func(t testing.TB, cs []domain.Case) string {
			return marshal(t, cs[0].Request)
		}, func(t testing.TB, b []byte) []bool {
			var d struct{ Allow bool }
			unmarshal(t, b, &d)
			return []bool{d.Allow}
		}},
		{"/v1/decisions/batch", 100, func(t testing.TB, cs []domain.Case) string {
			reqs := make([]any, len(cs))
			for i, c := range cs {
				reqs[i] = c.Request
			}
			return marshal(t, map[string]any{"requests": reqs})
		}, func(t testing.TB, b []byte) []bool {
			var d struct{ Results []struct{ Allow bool } }
			unmarshal(t, b, &d)
			out := make([]bool, len(d.Results))
			for i, r := range d.Results {
				out[i] = r.Allow
			}
			return out
		}},
		{"/access/v1/evaluations", 100, func(t testing.TB, cs []domain.Case) string {
			evs := make([]any, len(cs))
			for i, c := range cs {
				evs[i] = authzenOf(c)
			}
			return marshal(t, map[string]any{"evaluations": evs})
		}, func(t testing.TB, b []byte) []bool {
			var d struct{ Evaluations []struct{ Decision bool } }
			unmarshal(t, b, &d)
			out := make([]bool, len(d.Evaluations))
			for i, e := range d.Evaluations {
				out[i] = e.Decision
			}
			return out
		}},
		{"/v1/data/rolegate/authz/allow", 1, func(t testing.TB, cs []domain.Case) string {
			return marshal(t, map[string]any{"input": cs[0].Request})
		}, func(t testing.TB, b []byte) []bool {
			var d struct{ Result bool }
			unmarshal(t, b, &d)
			return []bool{d.Result}
		}},
	}
}

// authzenOf returns the case as an AuthZEN evaluation.
func authzenOf(c domain.Case) map[string]any {
	props := map[string]any{"workspace": c.Request.Resource.Workspace}
	for k, v := range c.Request.Resource.Attributes {
		props[k] = v
	}
	return map[string]any{
		"subject":  map[string]any{"type": "user", "id": c.Request.Subject},
		"action":   map[string]any{"name": c.Request.Action},
		"resource": map[string]any{"type": "miniprogram", "id": c.Request.Resource.ID, "properties": props},
	}
}

func marshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func unmarshal(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}
