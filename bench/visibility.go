package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
)

// The membership API's credentials in the visibility measurement: an HS256 key of
// the harness's own.
const (
	jwtIssuer   = "https://bench.rolegate.invalid"
	jwtAudience = "rolegate"
	jwtSecret   = "bench-only-secret-0123456789abcdef0123456789"
	// visibilityTimeout bounds the wait for one write to show.
	visibilityTimeout = 10 * time.Second
)

// visibilityResult is how long after each write's acknowledgement the decisions of
// the replica that took it (Same) and of the other one (Other) changed.
type visibilityResult struct {
	Writes      int
	Role, Probe string
	// FirstAsk counts the writes that replica A's first decision after the
	// acknowledgement already reflected.
	FirstAsk         int
	Ack, Same, Other []time.Duration
}

// roleChange is the write the measurement repeats and the decision it changes.
type roleChange struct {
	workspace, member, from, to, probe string
	// toAllows says whether the probe is allowed with role to (and denied with from).
	toAllows bool
}

// probeFor finds a role of the fixture's workspace type and an operation without
// conditions that exactly one of it and the member's role grants in the workspace.
func probeFor(model *engine.Model, f fixture) (roleChange, error) {
	from := model.Roles[f.Role]
	for _, to := range model.RolesOf(from.WorkspaceType) {
		if to.ID == from.ID || to.Grants[adminOperation] != "" {
			continue
		}
		for _, op := range model.OperationNames() {
			if len(model.Operations[op].Conditions) > 0 {
				continue
			}
			a, b := from.Grants[op], to.Grants[op]
			if (a == engine.ScopeWorkspace && b == "") || (a == "" && b == engine.ScopeWorkspace) {
				return roleChange{
					workspace: f.Workspace, member: f.Member, from: from.ID, to: to.ID,
					probe: op, toAllows: b != "",
				}, nil
			}
		}
	}
	return roleChange{}, fmt.Errorf("no role and operation tell a role change of %s apart", f.Role)
}

// measureVisibility runs two replicas over the one Redis, changes a member's role
// through A again and again, and after each acknowledgement asks A and B the probe
// until their answers change.
func (h *harness) measureVisibility(ctx context.Context) error {
	change, err := probeFor(h.policy.Model(), h.ds.Fixture)
	if err != nil {
		return err
	}
	s, err := h.replicaServer()
	if err != nil {
		return err
	}
	a, _, err := h.start(s)
	if err != nil {
		return err
	}
	defer a.stop()
	b, _, err := h.start(s)
	if err != nil {
		return err
	}
	defer b.stop()
	res, err := h.writes(ctx, a, b, change)
	if err != nil {
		return err
	}
	h.report.Visibility = res
	return nil
}

// replicaServer is rolegate over Redis with the membership API authenticated by the
// harness's key.
func (h *harness) replicaServer() (*server, error) {
	secret := filepath.Join(h.opts.Work, "jwt-secret")
	if err := os.WriteFile(secret, []byte(jwtSecret), 0o600); err != nil {
		return nil, err
	}
	cfg := filepath.Join(h.opts.Work, "replica.yaml")
	store := fmt.Sprintf("redis: {url: %q}\nauth:\n  jwt:\n    issuer: %s\n    audience: %s\n"+
		"    keys: [{algorithm: HS256, file: %s}]\n", h.redisURL, jwtIssuer, jwtAudience, secret)
	if err := os.WriteFile(cfg, []byte(rolegateConfig(h.files.PolicyBundle, store)), 0o644); err != nil {
		return nil, err
	}
	return &server{
		Name: "rolegate replica", Kind: kindRolegate, Path: "/v1/decisions",
		argv: func(addr string) []string {
			return []string{h.bin.Rolegate, "serve", "--config", cfg, "--addr", addr}
		},
	}, nil
}

func (h *harness) writes(ctx context.Context, a, b *running, c roleChange) (*visibilityResult, error) {
	token, err := signHS256(h.ds.Fixture.Admin, time.Now())
	if err != nil {
		return nil, err
	}
	probe, err := encodeRequest(&authz.Request{
		Subject: c.member, Action: c.probe, Resource: authz.Resource{Workspace: c.workspace},
	})
	if err != nil {
		return nil, err
	}
	res := &visibilityResult{Writes: h.opts.Writes, Role: c.from + " ⇄ " + c.to, Probe: c.probe}
	for i := range h.opts.Writes {
		role, want := c.to, c.toAllows
		if i%2 == 1 {
			role, want = c.from, !c.toAllows
		}
		ack, err := setRole(ctx, a.URL, token, c, role)
		if err != nil {
			return nil, err
		}
		same, other, asks, err := awaitBoth(ctx, a.URL, b.URL, probe, want)
		if err != nil {
			return nil, fmt.Errorf("write %d (%s): %w", i+1, role, err)
		}
		if asks == 1 {
			res.FirstAsk++
		}
		res.Ack, res.Same, res.Other = append(res.Ack, ack), append(res.Same, same), append(res.Other, other)
	}
	for _, d := range [][]time.Duration{res.Ack, res.Same, res.Other} {
		slices.Sort(d)
	}
	return res, nil
}

// setRole changes the member's role through the membership API and returns how long
// the write took to be acknowledged.
func setRole(ctx context.Context, base, token string, c roleChange, role string) (time.Duration, error) {
	url := fmt.Sprintf("%s/v1/workspaces/%s/members/%s/role", base, c.workspace, c.member)
	body := bytes.NewReader([]byte(`{"role":"` + role + `"}`))
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		return 0, fmt.Errorf("PUT %s: %s: %s", url, resp.Status, body.String())
	}
	return took, nil
}

// awaitBoth asks replica A the probe until it answers want, then replica B, and
// returns how long after now each answered so, and how many asks A took. B is asked
// only once A has answered, so that the two replicas never compete for the core
// while A is measured; B's time thus includes A's and is, if anything, too long.
func awaitBoth(ctx context.Context, a, b string, probe []byte, want bool,
) (time.Duration, time.Duration, int, error) {
	start := time.Now()
	same, asks, err := awaitAnswer(ctx, a+"/v1/decisions", probe, want, start)
	if err != nil {
		return 0, 0, 0, err
	}
	other, _, err := awaitAnswer(ctx, b+"/v1/decisions", probe, want, start)
	return same, other, asks, err
}

func awaitAnswer(ctx context.Context, url string, probe []byte, want bool, start time.Time,
) (time.Duration, int, error) {
	for asks := 1; ; asks++ {
		body, err := post(ctx, url, probe)
		if err != nil {
			return 0, 0, err
		}
		got, err := parseAnswer(body, false)
		if err != nil {
			return 0, 0, err
		}
		if got.Allow == want {
			return time.Since(start), asks, nil
		}
		if time.Since(start) > visibilityTimeout {
			return 0, 0, fmt.Errorf("%s still answers %v after %v", url, got, visibilityTimeout)
		}
	}
}

// signHS256 returns a JWT for the user, signed with the harness's HS256 key.
func signHS256(user string, now time.Time) (string, error) {
	header := `{"alg":"HS256","typ":"JWT"}`
	claims, err := json.Marshal(map[string]any{
		"sub": user, "iss": jwtIssuer, "aud": jwtAudience,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	unsigned := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(jwtSecret))
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc.EncodeToString(mac.Sum(nil)), nil
}
