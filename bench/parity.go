package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
)

// answer is what parity compares of a decision: allow and the reason codes.
type answer struct {
	Allow bool
	Codes []string
}

func (a answer) String() string {
	verdict := "deny"
	if a.Allow {
		verdict = "allow"
	}
	return verdict + " " + strings.Join(a.Codes, ",")
}

// parseAnswer reads a decision: rolegate's response, or OPA's {"result": ...}.
func parseAnswer(body []byte, opa bool) (answer, error) {
	type decision struct {
		Allow   *bool `json:"allow"`
		Reasons []struct {
			Code string `json:"code"`
		} `json:"reasons"`
	}
	var d decision
	if opa {
		var wrapped struct {
			Result *decision `json:"result"`
		}
		if err := json.Unmarshal(body, &wrapped); err != nil || wrapped.Result == nil {
			return answer{}, fmt.Errorf("not an OPA decision: %.200s", body)
		}
		d = *wrapped.Result
	} else if err := json.Unmarshal(body, &d); err != nil {
		return answer{}, fmt.Errorf("not a decision: %.200s", body)
	}
	if d.Allow == nil || len(d.Reasons) == 0 {
		return answer{}, fmt.Errorf("decision without allow or reasons: %.200s", body)
	}
	a := answer{Allow: *d.Allow}
	for _, r := range d.Reasons {
		a.Codes = append(a.Codes, r.Code)
	}
	slices.Sort(a.Codes)
	return a, nil
}

// maxDiffs is how many differences a parity failure prints.
const maxDiffs = 10

// compareAnswers returns the requests whose answers differ, at most maxDiffs, and
// how many differ in all.
func compareAnswers(requests [][]byte, want, got []answer) ([]string, int) {
	var diffs []string
	n := 0
	for i := range want {
		if want[i].Allow == got[i].Allow && slices.Equal(want[i].Codes, got[i].Codes) {
			continue
		}
		n++
		if len(diffs) < maxDiffs {
			diffs = append(diffs,
				fmt.Sprintf("%s\n    OPA: %v\n    rolegate: %v", requests[i], want[i], got[i]))
		}
	}
	return diffs, n
}

// answers asks a running configuration every request of the mix.
func (h *harness) answers(ctx context.Context, s *server, r *running) ([]answer, error) {
	bodies, err := sendAll(ctx, r.URL+s.Path, h.bodies(s), warmWorkers)
	if err != nil {
		return nil, err
	}
	out := make([]answer, len(bodies))
	for i, b := range bodies {
		if out[i], err = parseAnswer(b, s.OPABody); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	return out, nil
}

// parity asks OPA and each rolegate configuration the whole mix and fails on the
// first configuration whose answers differ from OPA's. It returns the share of the
// mix OPA allowed.
func (h *harness) parity(ctx context.Context) (float64, error) {
	want, err := h.answersOf(ctx, find(h.servers, keyOPA))
	if err != nil {
		return 0, err
	}
	allowed := 0
	for _, a := range want {
		if a.Allow {
			allowed++
		}
	}
	for _, s := range h.servers {
		if s.Kind != kindRolegate {
			continue
		}
		got, err := h.answersOf(ctx, s)
		if err != nil {
			return 0, err
		}
		if diffs, n := compareAnswers(h.rolegateBodies, want, got); n > 0 {
			return 0, fmt.Errorf("parity: %s answers %d of %d requests unlike OPA; the first:\n  %s",
				s.Name, n, len(want), strings.Join(diffs, "\n  "))
		}
		h.logf("parity: %s answers all %d requests as OPA does", s.Name, len(want))
	}
	return float64(allowed) / float64(len(want)), nil
}

func (h *harness) answersOf(ctx context.Context, s *server) ([]answer, error) {
	r, _, err := h.start(s)
	if err != nil {
		return nil, err
	}
	defer r.stop()
	return h.answers(ctx, s, r)
}
