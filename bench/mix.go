package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/go-json-experiment/json"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
)

// Shares of the candidate requests, before the mix is balanced between allowed and
// denied decisions.
const (
	ownWorkspaceShare = 0.75 // the workspace is one of the subject's
	merchantShare     = 0.25 // of those in a tenant, one of the tenant's merchants instead
	miniProgramShare  = 0.7  // the request names a mini program
	assignedShare     = 0.6  // of those, one assigned to the subject where any is
	unknownShare      = 0.01 // a workspace that does not exist
	// maxTriesPerRequest bounds the candidates drawn per request of the mix.
	maxTriesPerRequest = 200
)

// mix is the request mix: distinct decisions, half allowed by the policy.
type mix struct {
	Requests []authz.Request
	// Allowed are the decisions the in-process service allowed while building the mix.
	Allowed int
}

// buildMix draws candidate requests deterministically from the seed and keeps n
// distinct ones, as many allowed as denied by decide (the policy asked in process),
// so that both kinds of decision are measured in equal parts.
func buildMix(ds *dataset, model *engine.Model, decide func(*authz.Request) bool, n int, seed uint64,
) (*mix, error) {
	rng := rand.New(rand.NewPCG(seed, 0x6d6978))
	g := generator{rng: rng, ds: ds, model: model, ops: model.OperationNames()}
	want := [2]int{n - n/2, n / 2} // denied, allowed
	var got [2]int
	seen := make(map[string]bool, n)
	m := &mix{}
	for tries := 0; got[0]+got[1] < n; tries++ {
		if tries > maxTriesPerRequest*n {
			return nil, fmt.Errorf("request mix: %d allowed and %d denied after %d candidates, want %d and %d",
				got[1], got[0], tries, want[1], want[0])
		}
		req := g.candidate()
		key, err := encodeRequest(&req)
		if err != nil {
			return nil, err
		}
		if seen[string(key)] {
			continue
		}
		k := 0
		if decide(&req) {
			k = 1
		}
		if got[k] == want[k] {
			continue
		}
		seen[string(key)], got[k] = true, got[k]+1
		m.Requests = append(m.Requests, req)
	}
	m.Allowed = got[1]
	return m, nil
}

// encodeRequest is a request as the decision API takes it, attributes in name order.
func encodeRequest(req *authz.Request) ([]byte, error) {
	b, err := json.Marshal(req, json.Deterministic(true))
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return b, nil
}

// bodies returns the mix as request bodies: the decision API's for rolegate, wrapped
// as {"input": ...} for OPA's data API.
func (m *mix) bodies(wrapInput bool) ([][]byte, error) {
	out := make([][]byte, len(m.Requests))
	for i := range m.Requests {
		b, err := encodeRequest(&m.Requests[i])
		if err != nil {
			return nil, err
		}
		if wrapInput {
			b = append(append([]byte(`{"input":`), b...), '}')
		}
		out[i] = b
	}
	return out, nil
}

// generator draws candidate requests.
type generator struct {
	rng   *rand.Rand
	ds    *dataset
	model *engine.Model
	ops   []string
}

func (g *generator) candidate() authz.Request {
	user := g.ds.Users[g.rng.IntN(len(g.ds.Users))]
	req := authz.Request{Subject: user, Action: g.ops[g.rng.IntN(len(g.ops))]}
	mps := g.place(&req)
	if g.rng.Float64() < miniProgramShare {
		if len(mps) > 0 && g.rng.Float64() < assignedShare {
			req.Resource.ID = mps[g.rng.IntN(len(mps))]
		} else if all := g.ds.MiniPrograms[req.Resource.Workspace]; len(all) > 0 {
			req.Resource.ID = all[g.rng.IntN(len(all))]
		}
	}
	req.Resource.Attributes = g.attributes(user, g.model.Operations[req.Action].Conditions)
	return req
}

// place chooses the request's workspace: mostly one of the subject's (or a merchant of
// its tenant), else any, rarely none that exists. It returns the mini programs
// assigned to the subject there.
func (g *generator) place(req *authz.Request) []string {
	mine := g.ds.ByUser[req.Subject]
	switch x := g.rng.Float64(); {
	case x < unknownShare:
		req.Resource.Workspace = "dw-unknown"
	case x < ownWorkspaceShare && len(mine) > 0:
		m := g.ds.Data.Memberships[mine[g.rng.IntN(len(mine))]]
		req.Resource.Workspace = m.Workspace
		if merchants := g.ds.Merchants[m.Workspace]; len(merchants) > 0 && g.rng.Float64() < merchantShare {
			req.Resource.Workspace = merchants[g.rng.IntN(len(merchants))]
			return nil
		}
		return m.MiniPrograms
	default:
		ws := g.ds.Data.Workspaces
		req.Resource.Workspace = ws[g.rng.IntN(len(ws))].ID
	}
	return nil
}

// attributes states what the operation's conditions read, mostly so that they pass.
func (g *generator) attributes(subject string, conditions []string) map[string]any {
	if len(conditions) == 0 {
		return nil
	}
	attrs := make(map[string]any)
	other := g.ds.Users[g.rng.IntN(len(g.ds.Users))]
	for _, c := range conditions {
		switch c {
		case "not_own_request":
			attrs["submitter"] = either(g.rng, 0.85, other, subject)
		case "in_review":
			attrs["state"] = either(g.rng, 0.8, "in_review", "approved")
		case "production_gate":
			attrs["environment"] = either(g.rng, 0.5, "production", "sandbox")
			attrs["approved"] = g.rng.Float64() < 0.5
		case "deletable_workspace":
			attrs["published_miniprograms"] = either(g.rng, 0.75, 0, 2)
			if g.rng.Float64() < 0.1 {
				// An old upload: the condition passes, and reads the clock to know it.
				attrs["last_upload_at"] = "2025-01-01T00:00:00Z"
			}
		case "not_self":
			attrs["member"] = either(g.rng, 0.9, other, subject)
		case "role_fits_workspace":
			roles := g.model.RolesOf(either(g.rng, 0.5, "tenant", "developer"))
			attrs["role"] = roles[g.rng.IntN(len(roles))].ID
		}
	}
	return attrs
}

// either returns a with probability p, else b.
func either[T any](rng *rand.Rand, p float64, a, b T) T {
	if rng.Float64() < p {
		return a
	}
	return b
}
