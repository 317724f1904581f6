//go:build soak

package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/policy"
)

// Shape of the membership data every soak item runs on: the example data plus
// developer workspaces of generated members.
const (
	soakWorkspaces = 16
	soakMembers    = 30 // per workspace, besides its admin
	soakPrograms   = 5  // mini programs per workspace; members hold two of the first four
	mixAllows      = 1000
	mixDenies      = 1000
	probes         = 100 // requests of users outside the mix, each allowed
)

// world is the membership data of a soak item and its request mix.
type world struct {
	data *membership.Data
	// file is the data written as a membership data file.
	file string
	// mix are the requests the load sends in turn, bodies their JSON.
	mix    []authz.Request
	bodies [][]byte
	// probes are allowed requests of users the mix never names, so their facts are
	// never cached: each needs Redis.
	probes []authz.Request
}

// newWorld generates the data, writes it to a file and draws the mix: as many
// requests the data allows as it denies, from a fixed seed.
func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{data: generate(t)}
	w.file = filepath.Join(t.TempDir(), "memberships.json")
	f, err := os.Create(w.file)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.data.Encode(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	w.draw(t)
	return w
}

// generate returns the example data with the generated workspaces and members.
func generate(t *testing.T) *membership.Data {
	t.Helper()
	example := filepath.Join(repoRoot, "examples/memberships.json")
	d, err := membership.LoadFile(example, roleModel(t).RoleTypes())
	if err != nil {
		t.Fatal(err)
	}
	tenants := []string{"tw-alpha", "tw-beta"}
	for i := range soakWorkspaces {
		ws := fmt.Sprintf("dw-s%02d", i)
		d.Workspaces = append(d.Workspaces,
			membership.Workspace{ID: ws, Type: membership.TypeDeveloper, Tenant: tenants[i%2]})
		d.Memberships = append(d.Memberships, membership.Membership{
			User: admin(ws), Workspace: ws, Role: "developer_admin", Status: membership.StatusActive,
		})
		for j := range soakMembers + probes/soakWorkspaces + 1 {
			d.Memberships = append(d.Memberships, member(ws, j))
		}
	}
	return d
}

func admin(ws string) string { return "u-" + ws[3:] + "-admin" }

// member returns the j-th generated member of ws: developers and operators, one in
// ten invited and one in ten blocked, each with two mini programs.
func member(ws string, j int) membership.Membership {
	m := membership.Membership{
		User: fmt.Sprintf("u-%s-%02d", ws[3:], j), Workspace: ws, Role: []string{"developer", "operator"}[j%2],
		Status:       membership.StatusActive,
		MiniPrograms: []string{program(ws, j%4), program(ws, (j+1)%4)},
	}
	switch j % 10 {
	case 7:
		m.Status = membership.StatusInvited
	case 9:
		m.Status = membership.StatusBlocked
	}
	return m
}

func program(ws string, k int) string { return fmt.Sprintf("mp-%s-%d", ws[3:], k) }

// draw picks the mix and the probes.
func (w *world) draw(t *testing.T) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(8, 8))
	ops := roleModel(t).OperationNames()
	judge := newJudge(t, w.data)
	allows, denies := 0, 0
	for allows < mixAllows || denies < mixDenies {
		ws := fmt.Sprintf("dw-s%02d", rnd.IntN(soakWorkspaces))
		user := member(ws, rnd.IntN(soakMembers)).User
		if rnd.IntN(5) == 0 { // now and then, someone else's workspace
			ws = fmt.Sprintf("dw-s%02d", rnd.IntN(soakWorkspaces))
		}
		if rnd.IntN(8) == 0 {
			user = admin(ws)
		}
		req := request(user, ops[rnd.IntN(len(ops))], ws, rnd.IntN(soakPrograms+1))
		switch allow := judge.allows(t, req); {
		case allow && allows < mixAllows:
			allows++
		case !allow && denies < mixDenies:
			denies++
		default:
			continue
		}
		w.mix = append(w.mix, req)
	}
	w.bodies = bodies(t, w.mix)
	w.probes = w.drawProbes(t, judge)
}

// drawProbes returns allowed requests of the members past soakMembers, whom the
// mix never names.
func (w *world) drawProbes(t *testing.T, judge judge) []authz.Request {
	t.Helper()
	var out []authz.Request
	for j := soakMembers; len(out) < probes; j++ {
		for i := range soakWorkspaces {
			ws := fmt.Sprintf("dw-s%02d", i)
			m := member(ws, j)
			req := request(m.User, "miniprogram:view", ws, j%4)
			if m.Status == membership.StatusActive && judge.allows(t, req) {
				out = append(out, req)
			}
		}
		if j > soakMembers+probes {
			t.Fatalf("only %d probes", len(out))
		}
	}
	return out[:probes]
}

// request builds a decision request; k == soakPrograms means no resource id.
func request(user, op, ws string, k int) authz.Request {
	r := authz.Request{Subject: user, Action: op, Resource: authz.Resource{Workspace: ws}}
	if k < soakPrograms {
		r.Resource.ID = program(ws, k)
	}
	return r
}

func bodies(t *testing.T, reqs []authz.Request) [][]byte {
	t.Helper()
	out := make([][]byte, len(reqs))
	for i, r := range reqs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// compiled is the policy built into the binary, which the services run too.
var compiled = sync.OnceValues(func() (*engine.Policy, error) {
	b, err := policy.Load("")
	if err != nil {
		return nil, err
	}
	return engine.Compile(context.Background(), b)
})

func roleModel(t *testing.T) *engine.Model {
	t.Helper()
	p, err := compiled()
	if err != nil {
		t.Fatal(err)
	}
	return p.Model()
}

// judge decides requests as the data says: the built-in policy in this process over
// the embedded store holding the data, apart from the services under test and Redis.
type judge struct{ svc *authz.Service }

func newJudge(t *testing.T, data *membership.Data) judge {
	t.Helper()
	p, err := compiled()
	if err != nil {
		t.Fatal(err)
	}
	return judge{svc: authz.NewService(engine.New(p), memory.New(data))}
}

func (j judge) allows(t *testing.T, req authz.Request) bool {
	t.Helper()
	d := j.svc.Decide(context.Background(), &req)
	if d.Err != nil {
		t.Fatalf("oracle: %v", d.Err)
	}
	return d.Allow
}

// oracle returns, for each request, whether the data grants it.
func oracle(t *testing.T, data *membership.Data, reqs []authz.Request) []bool {
	t.Helper()
	j := newJudge(t, data)
	out := make([]bool, len(reqs))
	for i, r := range reqs {
		out[i] = j.allows(t, r)
	}
	return out
}
