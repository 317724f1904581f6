package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/config"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/metrics"
	"github.com/rolegate/rolegate/internal/server"
)

// matrixAnswer is what GET /v1/matrix answers, as far as the tests read it.
type matrixAnswer struct {
	PolicyRevision string    `json:"policy_revision"`
	ComputedAt     time.Time `json:"computed_at"`
	Scopes         []struct {
		Symbol, Meaning string
	} `json:"scopes"`
	WorkspaceTypes []struct {
		WorkspaceType string                       `json:"workspace_type"`
		Roles         []string                     `json:"roles"`
		Cells         map[string]map[string]string `json:"cells"`
	} `json:"workspace_types"`
}

func (m *matrixAnswer) cell(wsType, op, role string) string {
	for _, t := range m.WorkspaceTypes {
		if t.WorkspaceType == wsType {
			return t.Cells[op][role]
		}
	}
	return ""
}

// engineServer serves the example memberships with the engine given, so that a test
// can activate other policies.
func engineServer(t *testing.T, eng *engine.Engine) http.Handler {
	t.Helper()
	w := exampleWorld(t)
	m := metrics.New()
	return server.New(server.Options{
		Service: authz.NewService(eng, w.store, authz.WithRecorder(m)), Store: w.pinger,
		StoreKind: "memory", Limits: config.Default().Limits,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: m,
	}).Handler()
}

func getMatrix(t *testing.T, h http.Handler) matrixAnswer {
	t.Helper()
	rec := call(h, "GET", "/v1/matrix", "", "")
	var m matrixAnswer
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &m) != nil {
		t.Fatalf("GET /v1/matrix: %d %s", rec.Code, rec.Body)
	}
	return m
}

// operatorUpdates compiles the built-in policy with miniprogram:update granted to
// the developer workspace's operator on assigned mini programs.
func operatorUpdates(t *testing.T) *engine.Policy {
	t.Helper()
	const (
		path = "rolegate/model/model.rego"
		role = "\"title\": \"Operator\",\n\t\t\"workspace_type\": \"developer\",\n\t\t\"grants\": {\n"
	)
	return bundletest.Compile(t, map[string]string{
		path: bundletest.Edit(t, path, role, role+"\t\t\t\"miniprogram:update\": \"assigned\",\n"),
	})
}

// TestMatrixAPI: GET /v1/matrix is the active policy's matrix, computed once per
// revision and computed again when another policy is activated.
func TestMatrixAPI(t *testing.T) {
	builtin := bundletest.Compile(t, nil)
	eng := engine.New(builtin)
	h := engineServer(t, eng)

	first := getMatrix(t, h)
	if first.PolicyRevision != builtin.Revision() || len(first.Scopes) != 5 {
		t.Fatalf("revision %q, %d scopes; want %q and 5", first.PolicyRevision, len(first.Scopes), builtin.Revision())
	}
	for _, c := range []struct{ wsType, op, role, want string }{
		{"tenant", "miniprogram:view", "workspace_admin", "✓+"},
		{"tenant", "approval:approve", "workspace_reviewer", "✓+"},
		{"developer", "miniprogram:update", "developer", "A"},
		{"developer", "miniprogram:update", "operator", "×"},
		{"developer", "request:withdraw", "operator", "own"},
	} {
		if got := first.cell(c.wsType, c.op, c.role); got != c.want {
			t.Errorf("%s %s %s = %q, want %q", c.wsType, c.op, c.role, got, c.want)
		}
	}
	if again := getMatrix(t, h); !again.ComputedAt.Equal(first.ComputedAt) {
		t.Errorf("the matrix of one revision was computed twice: %v then %v", first.ComputedAt, again.ComputedAt)
	}

	edited := operatorUpdates(t)
	eng.Activate(edited)
	after := getMatrix(t, h)
	if after.PolicyRevision != edited.Revision() || after.PolicyRevision == first.PolicyRevision {
		t.Fatalf("after activating %s the matrix is of %s", edited.Revision(), after.PolicyRevision)
	}
	if got := after.cell("developer", "miniprogram:update", "operator"); got != "A" {
		t.Errorf("operator miniprogram:update = %q after the edit, want A", got)
	}
}

func TestMatrixAPIWithoutPolicy(t *testing.T) {
	rec := call(engineServer(t, engine.New(nil)), "GET", "/v1/matrix", "", "")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"code":"not_ready"`) {
		t.Fatalf("%d %s; want 503 not_ready", rec.Code, rec.Body)
	}
}

// TestStatusCountsAndAge: /v1/status counts the decisions made since the start and
// says how old the active policy is.
func TestStatusCountsAndAge(t *testing.T) {
	h := engineServer(t, engine.New(bundletest.Compile(t, nil)))
	for _, body := range []string{allowReq, allowReq, denyReq} {
		if rec := call(h, "POST", "/v1/decisions", jsonType, body); rec.Code != http.StatusOK {
			t.Fatalf("decision: %d %s", rec.Code, rec.Body)
		}
	}
	rec := call(h, "GET", "/v1/status", "", "")
	var st struct {
		Policy struct {
			Revision    string    `json:"revision"`
			ActivatedAt time.Time `json:"activated_at"`
			AgeSeconds  float64   `json:"age_seconds"`
		} `json:"policy"`
		Decisions struct{ Allowed, Denied int } `json:"decisions"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	if st.Decisions.Allowed != 2 || st.Decisions.Denied != 1 {
		t.Errorf("decisions %+v, want 2 allowed and 1 denied", st.Decisions)
	}
	if st.Policy.ActivatedAt.IsZero() || st.Policy.AgeSeconds <= 0 || st.Policy.AgeSeconds > 60 {
		t.Errorf("policy activated at %v, age %v s", st.Policy.ActivatedAt, st.Policy.AgeSeconds)
	}
}
