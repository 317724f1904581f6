package route_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/route"
)

var small = []route.Route{
	{Method: "GET", Template: "/api/workspaces/{workspace}", Operation: "workspace:view"},
	{Method: "GET", Template: "/api/workspaces/{workspace}/apps/{id}", Operation: "app:view"},
	{Method: "DELETE", Template: "/api/workspaces/{workspace}/apps/{id}", Operation: "app:delete"},
	{Method: "GET", Template: "/api/workspaces/{workspace}/apps/{id}/versions/{version}", Operation: "version:view"},
	{
		Method: "POST", Template: "/api/workspaces/{workspace}/approvals/{request}/approve",
		Operation: "approval:approve", Check: "approval:list",
	},
	// A literal and a parameter at the same position: matching must backtrack.
	{Method: "GET", Template: "/api/workspaces/{workspace}/apps/{id}/stats", Operation: "app:stats"},
	{Method: "GET", Template: "/api/workspaces/{workspace}/apps-archive/x", Operation: "archive:view"},
	{Method: "GET", Template: "/api/workspaces/special/apps/{id}/{workspace}/x/y", Operation: "special:view"},
}

func TestMatch(t *testing.T) {
	table, err := route.New(small)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		want         []string // operation, check, workspace, id; nil: no match
	}{
		{"GET", "/api/workspaces/w1", []string{"workspace:view", "workspace:view", "w1", ""}},
		{"HEAD", "/api/workspaces/w1", []string{"workspace:view", "workspace:view", "w1", ""}},
		{"GET", "/api/workspaces/w1/apps/mp-1", []string{"app:view", "app:view", "w1", "mp-1"}},
		{"DELETE", "/api/workspaces/w1/apps/mp-1", []string{"app:delete", "app:delete", "w1", "mp-1"}},
		{"GET", "/api/workspaces/w1/apps/mp-1/versions/v2", []string{"version:view", "version:view", "w1", "mp-1"}},
		{"POST", "/api/workspaces/w1/approvals/r-9/approve", []string{"approval:approve", "approval:list", "w1", ""}},
		{"GET", "/api/workspaces/special/apps/mp-1/stats", []string{"app:stats", "app:stats", "special", "mp-1"}},
		{"GET", "/api/workspaces/special/apps/mp-1/w2/x/y", []string{"special:view", "special:view", "w2", "mp-1"}},
		{"PUT", "/api/workspaces/w1", nil},
		{"get", "/api/workspaces/w1", nil},
		{"OPTIONS", "/api/workspaces/w1", nil},
		{"GET", "/api/workspaces", nil},
		{"GET", "/api/workspaces/", nil},
		{"GET", "/api/workspaces/w1/", nil},
		{"GET", "/api/workspaces/w1/apps", nil},
		{"GET", "/api/workspaces/w1/apps/mp-1/versions", nil},
		{"GET", "/api/workspaces/w1/apps/mp-1/stats/more", nil},
		{"GET", "api/workspaces/w1", nil},
		{"GET", "/", nil},
		{"GET", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			m, ok := table.Match(tt.method, tt.path)
			var got []string
			if ok {
				got = []string{m.Route.Operation, m.Route.Check, m.Param(route.ParamWorkspace), m.Param(route.ParamID)}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("match (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := route.New([]route.Route{
		{Method: "GET", Template: "api/workspaces/{workspace}"},
		{Method: "HEAD", Template: "/api/workspaces/{workspace}"},
		{Method: "GET", Template: "/api/workspaces/{workspace}/"},
		{Method: "GET", Template: "/api/Workspaces/{workspace}"},
		{Method: "GET", Template: "/api/workspaces/{Workspace}"},
		{Method: "GET", Template: "/api/workspaces/{w}"},
		{Method: "GET", Template: "/api/{workspace}/x/{workspace}"},
		{Method: "GET", Template: "/api/a/{workspace}/b"},
		{Method: "GET", Template: "/api/{workspace}/{x}/b"},
	})
	if err == nil {
		t.Fatal("a broken table compiled")
	}
	want := []string{
		"route GET api/workspaces/{workspace}: a template starts with /",
		`route HEAD /api/workspaces/{workspace}: method "HEAD" is not one of [GET POST PUT PATCH DELETE]`,
		`route GET /api/workspaces/{workspace}/: segment 4: "" is not lowercase words joined by hyphens`,
		`route GET /api/Workspaces/{workspace}: segment 2: "Workspaces" is not lowercase words joined by hyphens`,
		`route GET /api/workspaces/{Workspace}: segment 3: "{Workspace}" is not a parameter name`,
		"route GET /api/workspaces/{w}: no {workspace} parameter",
		"route GET /api/{workspace}/x/{workspace}: parameter {workspace} appears twice",
		"routes GET /api/a/{workspace}/b and GET /api/{workspace}/{x}/b match the same requests",
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Fatalf("problems (-want +got):\n%s", diff)
	}
}

func TestRoutesAreSorted(t *testing.T) {
	table, err := route.New(small)
	if err != nil {
		t.Fatal(err)
	}
	routes := table.Routes()
	if len(routes) != len(small) || table.Len() != len(small) {
		t.Fatalf("%d routes, want %d", len(routes), len(small))
	}
	for i := 1; i < len(routes); i++ {
		if routes[i-1].Template > routes[i].Template {
			t.Fatalf("%s before %s", routes[i-1].Template, routes[i].Template)
		}
	}
}
