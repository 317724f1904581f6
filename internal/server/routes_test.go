package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/gateway"
	"github.com/rolegate/rolegate/internal/server"
	"github.com/rolegate/rolegate/internal/strictjson"
)

// input is what a route reads from the request besides its path and headers.
type input int

const (
	noInput      input = iota
	bodyInput          // a JSON body
	queryInput         // query parameters
	gatewayInput       // the original request, named by the path or by headers; no body
)

// routeSpec is the reviewed description of one route: whether it is public by design,
// what it reads, and a request it serves.
type routeSpec struct {
	// public routes answer without a credential: decisions, AuthZEN, the data API,
	// the gateway checks, the console, health, status and metrics. Every other route
	// is administrative and must authenticate.
	public bool
	input  input
	// target is a request target for the route's path; header the headers it needs
	// besides a credential.
	target string
	header []string
	// body is a valid body of a body route, a JSON object.
	body string
	// caller is who calls an administrative route: serviceCaller or a user id.
	caller string
}

const serviceCaller = "service"

// anyMethod keys a route registered for every method (gin's Any).
const anyMethod = "ANY"

const (
	nginxURI    = "/api/workspaces/dw-shop/miniprograms/mp-1"
	envoyTarget = gateway.DefaultEnvoyPathPrefix + nginxURI
)

var nginxHeaders = []string{gateway.HeaderOriginalMethod, "GET", gateway.HeaderOriginalURI, nginxURI}

// routeSpecs describes every route of the router; TestRouteSpecsCoverTheRouter fails
// when a route is added without a reviewed entry here, or an entry outlives its route.
var routeSpecs = map[string]routeSpec{
	"POST /v1/decisions": {public: true, input: bodyInput, target: "/v1/decisions", body: allowReq},
	"POST /v1/decisions/batch": {
		public: true, input: bodyInput, target: "/v1/decisions/batch", body: `{"requests":[` + allowReq + `]}`,
	},
	"GET /v1/permissions": {
		public: true, input: queryInput, target: "/v1/permissions?subject=u-dev&workspace=dw-shop&resource_id=mp-1",
	},
	"GET /v1/matrix": {public: true, target: "/v1/matrix"},
	"POST /access/v1/evaluation": {
		public: true, input: bodyInput, target: "/access/v1/evaluation", body: azReq,
	},
	"POST /access/v1/evaluations": {
		public: true, input: bodyInput, target: "/access/v1/evaluations",
		body: `{"subject":{"type":"user","id":"u-dev"},"action":{"name":"miniprogram:update"},"evaluations":[` +
			`{"resource":{"type":"miniprogram","id":"mp-1","properties":{"workspace":"dw-shop"}}}]}`,
	},
	"GET /.well-known/authzen-configuration": {public: true, target: "/.well-known/authzen-configuration"},
	"POST /v1/data/*path": {
		public: true, input: bodyInput, target: "/v1/data/rolegate/authz/decision", body: `{"input":` + allowReq + `}`,
	},
	anyMethod + " " + gateway.ForwardAuthPath: {
		public: true, input: gatewayInput, target: gateway.ForwardAuthPath, header: nginxHeaders,
	},
	anyMethod + " " + gateway.DefaultEnvoyPathPrefix + "/*path": {
		public: true, input: gatewayInput, target: envoyTarget,
	},
	"GET /ui":        {public: true, target: "/ui"},
	"GET /ui/*path":  {public: true, target: "/ui/static/console.js"},
	"GET /healthz":   {public: true, target: "/healthz"},
	"GET /readyz":    {public: true, target: "/readyz"},
	"GET /v1/status": {public: true, target: "/v1/status"},
	"GET /metrics":   {public: true, target: "/metrics"},

	"POST /v1/workspaces": {
		input: bodyInput, target: "/v1/workspaces", caller: serviceCaller,
		body: `{"id":"dw-new","type":"developer","tenant":"tw-alpha","admins":[{"user":"u-owner"}]}`,
	},
	"GET /v1/workspaces/:workspace/members": {target: "/v1/workspaces/dw-shop/members", caller: "u-dana"},
	"POST /v1/workspaces/:workspace/invitations": {
		input: bodyInput, target: "/v1/workspaces/dw-shop/invitations", caller: "u-dana",
		body: `{"user":"u-new","role":"operator","miniprograms":["mp-1"]}`,
	},
	"POST /v1/workspaces/:workspace/invitations/:user/accept": {
		target: "/v1/workspaces/dw-shop/invitations/u-ivy/accept", caller: "u-ivy",
	},
	"POST /v1/workspaces/:workspace/invitations/:user/resend": {
		target: "/v1/workspaces/dw-shop/invitations/u-ivy/resend", caller: "u-dana",
	},
	"DELETE /v1/workspaces/:workspace/invitations/:user": {
		target: "/v1/workspaces/dw-shop/invitations/u-ivy", caller: "u-dana",
	},
	"PUT /v1/workspaces/:workspace/members/:user/role": {
		input: bodyInput, target: "/v1/workspaces/dw-shop/members/u-oscar/role", caller: "u-dana",
		body: `{"role":"developer","miniprograms":["mp-1"]}`,
	},
	"POST /v1/workspaces/:workspace/members/:user/block": {
		target: "/v1/workspaces/dw-shop/members/u-oscar/block", caller: "u-dana",
	},
	"POST /v1/workspaces/:workspace/members/:user/unblock": {
		target: "/v1/workspaces/dw-shop/members/u-bella/unblock", caller: "u-dana",
	},
	"DELETE /v1/workspaces/:workspace/members/:user": {
		target: "/v1/workspaces/dw-shop/members/u-max", caller: "u-dana",
	},
}

const azReq = `{"subject":{"type":"user","id":"u-dev"},"action":{"name":"miniprogram:update"},` +
	`"resource":{"type":"miniprogram","id":"mp-1","properties":{"workspace":"dw-shop"}}}`

// route is a registered route with its reviewed description.
type route struct {
	server.Route
	spec routeSpec
}

// key returns the key of the route in routeSpecs, or "" when it has none.
func specKey(r server.Route) string {
	if _, ok := routeSpecs[r.Method+" "+r.Path]; ok {
		return r.Method + " " + r.Path
	}
	if _, ok := routeSpecs[anyMethod+" "+r.Path]; ok {
		return anyMethod + " " + r.Path
	}
	return ""
}

// routesOf enumerates the router's routes with their specs, failing the test for a
// route that has none.
func routesOf(t testing.TB, srv *server.Server) []route {
	t.Helper()
	var out []route
	for _, r := range srv.Routes() {
		key := specKey(r)
		if key == "" {
			t.Fatalf("route %s %s is not in routeSpecs: review it (public or administrative, "+
				"and what it reads) and add it", r.Method, r.Path)
		}
		out = append(out, route{Route: r, spec: routeSpecs[key]})
	}
	slices.SortFunc(out, func(a, b route) int {
		return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method)
	})
	return out
}

// TestRouteSpecsCoverTheRouter holds routeSpecs and the router to each other: every
// route has a reviewed entry, every entry a route, and the routes that are not public
// are exactly those the server registers as administrative.
func TestRouteSpecsCoverTheRouter(t *testing.T) {
	f := newAdminFixture(t)
	used := map[string]bool{}
	var admin []string
	for _, r := range routesOf(t, f.srv) {
		used[specKey(r.Route)] = true
		if !r.spec.public {
			admin = append(admin, r.Method+" "+r.Path)
		}
	}
	for key := range routeSpecs {
		if !used[key] {
			t.Errorf("routeSpecs has %s, which the router does not serve", key)
		}
	}
	want := slices.Sorted(slices.Values(f.srv.AdminRoutes()))
	slices.Sort(admin)
	if !slices.Equal(admin, want) {
		t.Errorf("routes that are not public: %v\nroutes registered as administrative: %v", admin, want)
	}
	for key, spec := range routeSpecs {
		if !spec.public && spec.caller == "" {
			t.Errorf("%s is administrative and names no caller", key)
		}
		if spec.input == bodyInput && !strings.HasPrefix(spec.body, "{") {
			t.Errorf("%s reads a body and has no sample", key)
		}
	}
}

// request returns a request of the route as its spec describes it, with the caller's
// credential for an administrative route.
func (f *adminFixture) request(t testing.TB, r route, body string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(r.Method, r.spec.target, strings.NewReader(body))
	for i := 0; i+1 < len(r.spec.header); i += 2 {
		req.Header.Set(r.spec.header[i], r.spec.header[i+1])
	}
	if body != "" {
		req.Header.Set("Content-Type", jsonType)
	}
	if !r.spec.public {
		req.Header.Set("Authorization", f.credential(t, r.spec.caller))
	}
	return req
}

// credential returns a valid Authorization value for the caller.
func (f *adminFixture) credential(t testing.TB, caller string) string {
	t.Helper()
	if caller == serviceCaller {
		return "Bearer " + serviceToken
	}
	return f.bearer(t, caller)
}

// serve sends req to h and returns the response.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// errorCode returns the code of a body in the one error shape,
// {"error":{"code":...,"message":...}}, with nothing else and a message; an error
// when the body is in another shape.
func errorCode(body []byte) (string, error) {
	var shape struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := strictjson.Decode(body, &shape, 0); err != nil {
		return "", fmt.Errorf("not the error shape: %w: %s", err, body)
	}
	if shape.Error.Code == "" || shape.Error.Message == "" {
		return "", fmt.Errorf("the error shape without a code or message: %s", body)
	}
	return shape.Error.Code, nil
}
