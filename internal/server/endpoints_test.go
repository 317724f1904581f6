package server_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership/storetest"
	"github.com/rolegate/rolegate/internal/server"
)

const jsonType = "application/json"

type endpointCase struct {
	name        string
	method      string
	target      string
	contentType string
	body        string
	header      []string
	wantStatus  int
}

func runEndpointCases(t *testing.T, h http.Handler, cases []endpointCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := call(h, tc.method, tc.target, tc.contentType, tc.body, tc.header...)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, jsonType) {
				t.Fatalf("content type %q, want JSON", ct)
			}
			golden(t, t.Name(), normalize(rec.Body.String()))
		})
	}
}

const (
	allowReq = `{"subject":"u-dev","action":"miniprogram:update","resource":{"workspace":"dw-shop","id":"mp-1"}}`
	denyReq  = `{"subject":"u-dev","action":"miniprogram:update","resource":{"workspace":"dw-shop","id":"mp-2"}}`
)

func TestDecisions(t *testing.T) {
	h := newServer(t, exampleWorld(t))
	deep := `{"subject":"u","action":"a:b","resource":{"workspace":"w","attributes":{"x":` +
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}}}`
	runEndpointCases(t, h, []endpointCase{
		{"allow", "POST", "/v1/decisions", jsonType, allowReq, nil, 200},
		{"deny", "POST", "/v1/decisions", jsonType, denyReq, nil, 200},
		{
			"unknown operation", "POST", "/v1/decisions", jsonType,
			`{"subject":"u-ann","action":"miniprogram:fly","resource":{"workspace":"tw-alpha"}}`, nil, 200,
		},
		{
			"unknown workspace", "POST", "/v1/decisions", jsonType,
			`{"subject":"u-ann","action":"workspace:view","resource":{"workspace":"tw-nowhere"}}`, nil, 200,
		},
		{
			"with attributes", "POST", "/v1/decisions", jsonType,
			`{"subject":"u-rita","action":"approval:approve","resource":{"workspace":"dw-shop",` +
				`"attributes":{"submitter":"u-rita","state":"in_review"}}}`, nil, 200,
		},
		{"content type with charset", "POST", "/v1/decisions", "application/json; charset=utf-8", allowReq, nil, 200},
		{"malformed json", "POST", "/v1/decisions", jsonType, `{"subject":`, nil, 400},
		{"trailing garbage", "POST", "/v1/decisions", jsonType, allowReq + `}`, nil, 400},
		{
			"unknown field", "POST", "/v1/decisions", jsonType,
			`{"subject":"u","action":"a:b","resource":{"workspace":"w"},"facts":{}}`, nil, 400,
		},
		{
			"key differing in case", "POST", "/v1/decisions", jsonType,
			`{"subject":"u","Subject":"v","action":"a:b","resource":{"workspace":"w"}}`, nil, 400,
		},
		{
			"duplicate key", "POST", "/v1/decisions", jsonType,
			`{"subject":"u","subject":"v","action":"a:b","resource":{"workspace":"w"}}`, nil, 400,
		},
		{"missing subject", "POST", "/v1/decisions", jsonType, `{"action":"a:b","resource":{"workspace":"w"}}`, nil, 400},
		{"missing workspace", "POST", "/v1/decisions", jsonType, `{"subject":"u","action":"a:b","resource":{}}`, nil, 400},
		{
			"wrong type", "POST", "/v1/decisions", jsonType,
			`{"subject":["u"],"action":"a:b","resource":{"workspace":"w"}}`, nil, 400,
		},
		{
			"nested attribute", "POST", "/v1/decisions", jsonType,
			`{"subject":"u","action":"a:b","resource":{"workspace":"w","attributes":{"x":{"y":1}}}}`, nil, 400,
		},
		{
			"invalid utf-8", "POST", "/v1/decisions", jsonType,
			"{\"subject\":\"u\xff\",\"action\":\"a:b\",\"resource\":{\"workspace\":\"w\"}}", nil, 400,
		},
		{"too deep", "POST", "/v1/decisions", jsonType, deep, nil, 400},
		{
			"body too large", "POST", "/v1/decisions", jsonType,
			`{"subject":"` + strings.Repeat("x", 1<<20) + `"}`, nil, 413,
		},
		{"no content type", "POST", "/v1/decisions", "", allowReq, nil, 415},
		{"form content type", "POST", "/v1/decisions", "application/x-www-form-urlencoded", allowReq, nil, 415},
		{"gzip body", "POST", "/v1/decisions", jsonType, allowReq, []string{"Content-Encoding", "gzip"}, 415},
		{"empty body", "POST", "/v1/decisions", jsonType, ``, nil, 400},
	})
}

func TestBatch(t *testing.T) {
	h := newServer(t, exampleWorld(t))
	many := strings.TrimSuffix(strings.Repeat(allowReq+",", 101), ",")
	runEndpointCases(t, h, []endpointCase{
		{"two", "POST", "/v1/decisions/batch", jsonType, `{"requests":[` + allowReq + `,` + denyReq + `]}`, nil, 200},
		{"empty", "POST", "/v1/decisions/batch", jsonType, `{"requests":[]}`, nil, 400},
		{"too many", "POST", "/v1/decisions/batch", jsonType, `{"requests":[` + many + `]}`, nil, 400},
		{
			"invalid element", "POST", "/v1/decisions/batch", jsonType,
			`{"requests":[` + allowReq + `,{"subject":"u"}]}`, nil, 400,
		},
	})
}

func TestPermissions(t *testing.T) {
	h := newServer(t, exampleWorld(t))
	runEndpointCases(t, h, []endpointCase{
		{"developer", "GET", "/v1/permissions?subject=u-dev&workspace=dw-shop", "", "", nil, 200},
		{
			"developer on a mini program", "GET", "/v1/permissions?subject=u-dev&workspace=dw-shop&resource_id=mp-1",
			"", "", nil, 200,
		},
		{"reviewer in a merchant", "GET", "/v1/permissions?subject=u-rita&workspace=dw-shop", "", "", nil, 200},
		{"stranger", "GET", "/v1/permissions?subject=u-nobody&workspace=dw-shop", "", "", nil, 200},
		{"missing subject", "GET", "/v1/permissions?workspace=dw-shop", "", "", nil, 400},
		{"missing workspace", "GET", "/v1/permissions?subject=u-dev", "", "", nil, 400},
		{"subject not utf-8", "GET", "/v1/permissions?subject=u%FF&workspace=dw-shop", "", "", nil, 400},
		{"workspace not utf-8", "GET", "/v1/permissions?subject=u-dev&workspace=dw%C0", "", "", nil, 400},
		{
			"subject twice", "GET", "/v1/permissions?subject=u-nobody&workspace=dw-shop&subject=u-dana",
			"", "", nil, 400,
		},
		{
			"parameter differing in case", "GET", "/v1/permissions?Subject=u-dana&subject=u-nobody&workspace=dw-shop",
			"", "", nil, 400,
		},
		{"unknown parameter", "GET", "/v1/permissions?subject=u-dev&workspace=dw-shop&facts=x", "", "", nil, 400},
		{"malformed escape", "GET", "/v1/permissions?subject=u-dev&workspace=dw-shop&resource_id=%ZZ", "", "", nil, 400},
		{"semicolon separator", "GET", "/v1/permissions?subject=u-dev;workspace=dw-shop", "", "", nil, 400},
	})
}

func TestAuthZEN(t *testing.T) {
	h := newServer(t, exampleWorld(t))
	ev := func(subject, action, resource string) string {
		return fmt.Sprintf(`{"subject":{"type":"user","id":%q},"action":{"name":%q},"resource":%s}`,
			subject, action, resource)
	}
	mp := func(id string) string {
		return fmt.Sprintf(`{"type":"miniprogram","id":%q,"properties":{"workspace":"dw-shop"}}`, id)
	}
	batch := `{"subject":{"type":"user","id":"u-dev"},"action":{"name":"miniprogram:update"},` +
		`"options":{"evaluations_semantic":"%s"},"evaluations":[{"resource":` + mp("mp-2") +
		`},{"resource":` + mp("mp-1") + `},{"resource":` + mp("mp-3") + `}]}`
	runEndpointCases(t, h, []endpointCase{
		{"allow", "POST", "/access/v1/evaluation", jsonType, ev("u-dev", "miniprogram:update", mp("mp-1")), nil, 200},
		{"deny", "POST", "/access/v1/evaluation", jsonType, ev("u-dev", "miniprogram:update", mp("mp-2")), nil, 200},
		{
			"workspace resource", "POST", "/access/v1/evaluation", jsonType,
			ev("u-ann", "workspace:update", `{"type":"workspace","id":"tw-alpha"}`), nil, 200,
		},
		{
			"attributes from properties", "POST", "/access/v1/evaluation", jsonType, ev("u-rita", "approval:approve",
				`{"type":"request","id":"r-1","properties":{"workspace":"dw-shop","submitter":"u-dana","state":"in_review"}}`),
			nil, 200,
		},
		{
			"request id echoed", "POST", "/access/v1/evaluation", jsonType,
			ev("u-dev", "miniprogram:update", mp("mp-1")),
			[]string{"X-Request-ID", "req-42"},
			200,
		},
		{
			"missing subject id", "POST", "/access/v1/evaluation", jsonType,
			`{"subject":{"type":"user"},"action":{"name":"a:b"},"resource":{"type":"workspace","id":"w"}}`, nil, 400,
		},
		{
			"missing workspace property", "POST", "/access/v1/evaluation", jsonType,
			ev("u-dev", "miniprogram:update", `{"type":"miniprogram","id":"mp-1"}`), nil, 400,
		},
		{"execute all", "POST", "/access/v1/evaluations", jsonType, fmt.Sprintf(batch, "execute_all"), nil, 200},
		{
			"deny on first deny", "POST", "/access/v1/evaluations", jsonType,
			fmt.Sprintf(batch, "deny_on_first_deny"), nil, 200,
		},
		{
			"permit on first permit", "POST", "/access/v1/evaluations", jsonType,
			fmt.Sprintf(batch, "permit_on_first_permit"), nil, 200,
		},
		{"unknown semantic", "POST", "/access/v1/evaluations", jsonType, fmt.Sprintf(batch, "most"), nil, 400},
		{
			"missing subject type", "POST", "/access/v1/evaluation", jsonType,
			`{"subject":{"id":"u-dev"},"action":{"name":"workspace:view"},"resource":{"type":"workspace","id":"dw-shop"}}`,
			nil, 400,
		},
		{
			"one invalid evaluation", "POST", "/access/v1/evaluations", jsonType,
			`{"subject":{"type":"user","id":"u-dev"},"action":{"name":"miniprogram:update"},"evaluations":[` +
				`{"resource":` + mp("mp-1") + `},{"resource":{"type":"miniprogram","id":"mp-1"}},` +
				`{"resource":` + mp("mp-2") + `}]}`,
			nil, 200,
		},
		{
			"an invalid evaluation denies first", "POST", "/access/v1/evaluations", jsonType,
			`{"subject":{"type":"user","id":"u-dev"},"action":{"name":"miniprogram:update"},` +
				`"options":{"evaluations_semantic":"deny_on_first_deny"},"evaluations":[` +
				`{"resource":{"id":"mp-1"}},{"resource":` + mp("mp-1") + `}]}`,
			nil, 200,
		},
		{
			"without evaluations", "POST", "/access/v1/evaluations", jsonType,
			ev("u-dev", "miniprogram:update", mp("mp-1")), nil, 200,
		},
		{"configuration", "GET", "/.well-known/authzen-configuration", "", "", nil, 200},
	})
	rec := call(h, "POST", "/access/v1/evaluation", jsonType, ev("u-dev", "miniprogram:update", mp("mp-1")),
		"X-Request-ID", "req-42")
	if got := rec.Header().Get("X-Request-ID"); got != "req-42" {
		t.Fatalf("X-Request-ID = %q, want it echoed", got)
	}
}

func TestDataAPI(t *testing.T) {
	h := newServer(t, exampleWorld(t))
	in := `{"input":` + allowReq + `}`
	runEndpointCases(t, h, []endpointCase{
		{"decision", "POST", "/v1/data/rolegate/authz/decision", jsonType, in, nil, 200},
		{"allow", "POST", "/v1/data/rolegate/authz/allow", jsonType, in, nil, 200},
		{"reasons", "POST", "/v1/data/rolegate/authz/reasons", jsonType, `{"input":` + denyReq + `}`, nil, 200},
		{"unpublished rule", "POST", "/v1/data/rolegate/authz/_grants", jsonType, in, nil, 404},
		{"whole package", "POST", "/v1/data/rolegate/authz", jsonType, in, nil, 404},
		{"system path", "POST", "/v1/data/system/main", jsonType, in, nil, 404},
		{"rule not utf-8", "POST", "/v1/data/rolegate/%FF", jsonType, in, nil, 404},
		{"no input", "POST", "/v1/data/rolegate/authz/allow", jsonType, `{}`, nil, 400},
		{
			"facts from the caller", "POST", "/v1/data/rolegate/authz/allow", jsonType,
			`{"input":{"subject":"u","action":"a:b","resource":{"workspace":"w"},"facts":{"memberships":{}}}}`, nil, 400,
		},
	})
}

func TestRoutingAndLimits(t *testing.T) {
	h := newServer(t, exampleWorld(t))
	runEndpointCases(t, h, []endpointCase{
		{"unknown route", "GET", "/v2/decisions", "", "", nil, 404},
		{"wrong method", "GET", "/v1/decisions", "", "", nil, 405},
		{"trailing slash", "POST", "/v1/decisions/", jsonType, allowReq, nil, 404},
		{"path not utf-8", "GET", "/v1/%FF%FE", "", "", nil, 404},
		{"wrong method, path not utf-8", "DELETE", "/v1/decisions%FF", "", "", nil, 404},
		{"healthz", "GET", "/healthz", "", "", nil, 200},
		{"readyz", "GET", "/readyz", "", "", nil, 200},
		{"query too long", "GET", "/v1/permissions?subject=" + strings.Repeat("u", 9000), "", "", nil, 414},
		{"headers too large", "GET", "/healthz", "", "", []string{"X-Junk", strings.Repeat("j", 70000)}, 431},
	})
}

func TestReadyzFailures(t *testing.T) {
	down := exampleWorld(t)
	down.store, down.pinger = storetest.Unreachable{}, storetest.Unreachable{}
	noPolicy := exampleWorld(t)
	noPolicy.policy = nil
	for name, w := range map[string]world{"store down": down, "no policy": noPolicy} {
		t.Run(name, func(t *testing.T) {
			rec := call(newServer(t, w), "GET", "/readyz", "", "")
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503", rec.Code)
			}
			golden(t, t.Name(), rec.Body.String())
		})
	}
}

func TestStoreDownDenies(t *testing.T) {
	w := exampleWorld(t)
	w.store, w.pinger = storetest.Unreachable{}, storetest.Unreachable{}
	rec := call(newServer(t, w), "POST", "/v1/decisions", jsonType, allowReq)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"allow":false`) ||
		!strings.Contains(rec.Body.String(), "membership_unavailable") {
		t.Fatalf("status %d body %s, want a denial for membership_unavailable", rec.Code, rec.Body)
	}
}

// TestAuthZENConfigurationFromPublicURL: with a public URL configured, the metadata
// names it whatever Host the request gives.
func TestAuthZENConfigurationFromPublicURL(t *testing.T) {
	w := exampleWorld(t)
	h := server.New(server.Options{
		Service: authz.NewService(engine.New(w.policy), w.store), Store: w.pinger, Limits: w.limits,
		Logger: slog.New(slog.DiscardHandler), PublicURL: "https://authz.example.com",
	}).Handler()
	rec := call(h, "GET", "/.well-known/authzen-configuration", "", "", "Host", "evil.example")
	want := `{"issuer":"https://authz.example.com","policy_decision_point":"https://authz.example.com",` +
		`"access_evaluation_endpoint":"https://authz.example.com/access/v1/evaluation",` +
		`"access_evaluations_endpoint":"https://authz.example.com/access/v1/evaluations"}` + "\n"
	if rec.Body.String() != want {
		t.Fatalf("configuration = %s, want %s", rec.Body, want)
	}
}
