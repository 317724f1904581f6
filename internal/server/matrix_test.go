package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/config"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/test/domain"
)

// domainServer serves the specification's test world.
func domainServer(t *testing.T) http.Handler {
	t.Helper()
	store := memory.New(domain.World())
	return newServer(t, world{
		policy: bundletest.Compile(t, nil), store: store, pinger: store, limits: config.Default().Limits,
	})
}

// TestDomainMatrixThroughAPI runs every cell of the specification's matrix through
// POST /v1/decisions, so that the API and the policy can never disagree.
func TestDomainMatrixThroughAPI(t *testing.T) {
	h := domainServer(t)
	cases, err := domain.Cases()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		body, err := json.Marshal(c.Request)
		if err != nil {
			t.Fatal(err)
		}
		rec := call(h, "POST", "/v1/decisions", jsonType, string(body))
		var got struct {
			Allow bool `json:"allow"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil {
			t.Fatalf("%s: status %d: %s", c.Name, rec.Code, rec.Body)
		}
		if got.Allow != c.Allow {
			t.Errorf("%s: allow = %v, want %v: %s", c.Name, got.Allow, c.Allow, rec.Body)
		}
	}
}

// TestDomainMatrixThroughAuthZEN runs every cell through POST /access/v1/evaluation.
func TestDomainMatrixThroughAuthZEN(t *testing.T) {
	h := domainServer(t)
	cases, err := domain.Cases()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		rec := call(h, "POST", "/access/v1/evaluation", jsonType, authzenBody(t, &c.Request))
		var got struct {
			Decision bool `json:"decision"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil {
			t.Fatalf("%s: status %d: %s", c.Name, rec.Code, rec.Body)
		}
		if got.Decision != c.Allow {
			t.Errorf("%s: decision = %v, want %v: %s", c.Name, got.Decision, c.Allow, rec.Body)
		}
	}
}

// authzenBody writes a rolegate request as an AuthZEN evaluation: the mini program as
// the resource, its workspace and attributes as properties.
func authzenBody(t *testing.T, r *authz.Request) string {
	t.Helper()
	props := map[string]any{"workspace": r.Resource.Workspace}
	for k, v := range r.Resource.Attributes {
		props[k] = v
	}
	resource := map[string]any{"type": "miniprogram", "id": r.Resource.ID, "properties": props}
	if r.Resource.ID == "" {
		resource["type"] = "request"
	}
	body, err := json.Marshal(map[string]any{
		"subject":  map[string]any{"type": "user", "id": r.Subject},
		"action":   map[string]any{"name": r.Action},
		"resource": resource,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
