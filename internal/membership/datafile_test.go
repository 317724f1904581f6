package membership_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/membership"
)

var roles = membership.Roles{
	"workspace_admin": "tenant", "workspace_reviewer": "tenant", "workspace_developer": "tenant",
	"workspace_operator": "tenant", "developer_admin": "developer", "developer": "developer",
	"operator": "developer",
}

func TestLoadFileExample(t *testing.T) {
	d, err := membership.LoadFile("../../examples/memberships.json", roles)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	statuses := map[membership.Status]bool{}
	for _, m := range d.Memberships {
		seen[m.Role] = true
		statuses[m.Status] = true
	}
	for role := range roles {
		if !seen[role] {
			t.Errorf("the example has no %s", role)
		}
	}
	if len(statuses) != 3 {
		t.Errorf("the example has statuses %v, want invited, active and blocked", statuses)
	}
}

func TestLoadFileReportsEveryProblem(t *testing.T) {
	_, err := membership.LoadFile("testdata/invalid.json", roles)
	var verr *membership.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error = %v, want a *ValidationError", err)
	}
	var got []string
	for _, p := range verr.Problems {
		got = append(got, p.String())
	}
	want := []string{
		`workspaces[1] (tw-a): workspace "tw-a" is listed twice`,
		`workspaces[2] (tw-b): a tenant workspace has no tenant, got "tw-a"`,
		`workspaces[3] (dw-x): a developer workspace needs its tenant`,
		`workspaces[4] (dw-y): tenant "tw-missing" is not a known workspace`,
		`workspaces[5] (dw-z): tenant "dw-x" is a developer workspace, not a tenant`,
		`workspaces[6] (xw): type "shop" is not "tenant" or "developer"`,
		`memberships[1] (u-1 in tw-a): duplicate of memberships[0]: a user holds one role per workspace`,
		`memberships[2] (u-2 in tw-a): role developer belongs in developer workspaces, and tw-a is a tenant workspace`,
		`memberships[3] (u-3 in tw-a): role "janitor" is not known`,
		`memberships[4] (u-4 in tw-a): status "sleeping" is not invited, active or blocked`,
		`memberships[5] (u-5 in tw-nowhere): workspace "tw-nowhere" is not known`,
		`memberships[6] ( in tw-a): user is required`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("problems (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(err.Error(), "testdata/invalid.json: invalid membership data: 12 problem(s)") {
		t.Fatalf("error does not name the file and count: %v", err)
	}
}

func TestDecodeIsStrict(t *testing.T) {
	tests := map[string]string{
		"unknown field":  `{"workspaces": [], "memberships": [], "users": []}`,
		"duplicate key":  `{"workspaces": [], "workspaces": []}`,
		"wrong type":     `{"workspaces": {}}`,
		"trailing data":  `{"workspaces": []} {}`,
		"not json":       `workspaces:`,
		"nested unknown": `{"workspaces": [{"id": "w", "type": "tenant", "owner": "x"}]}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := membership.Decode(strings.NewReader(body)); err == nil {
				t.Fatal("decoded without error")
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	d, err := membership.LoadFile("../../examples/memberships.json", roles)
	if err != nil {
		t.Fatal(err)
	}
	d.Memberships[0].ExpiresAt = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var b strings.Builder
	if err := d.Encode(&b); err != nil {
		t.Fatal(err)
	}
	got, err := membership.Decode(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("decode what Encode wrote: %v\n%s", err, b.String())
	}
	if diff := cmp.Diff(d, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	var empty strings.Builder
	if err := (&membership.Data{}).Encode(&empty); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"workspaces\": [],\n  \"memberships\": []\n}\n"; empty.String() != want {
		t.Fatalf("empty data encodes as %q, want %q", empty.String(), want)
	}
}

// TestLoadReportsDecodingAndValidationAtOnce: items that are not of their type do not
// hide each other or the validation problems of the rest.
func TestLoadReportsDecodingAndValidationAtOnce(t *testing.T) {
	roles := membership.Roles{"workspace_admin": "tenant", "developer": "developer"}
	_, err := membership.LoadFile("testdata/undecodable.json", roles)
	var verr *membership.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error = %v, want a *ValidationError", err)
	}
	var got []string
	for _, p := range verr.Problems {
		got = append(got, p.String())
	}
	want := []string{
		`workspaces[0] (tw-a): unknown field "/colour"`,
		`memberships[1] (u-2 in dw-a): field "/miniprograms/0": expected a string, got a number`,
		`memberships[2] (u-3 in tw-a): field "/status": expected a string, got a number`,
		`memberships[0] (u-1 in tw-a): role "janitor" is not known`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("problems (-want +got):\n%s", diff)
	}
}

func TestValidWorkspaceID(t *testing.T) {
	tests := map[string]bool{
		"tw-alpha": true, "dw_shop.2": true, "A1": true, strings.Repeat("w", 128): true,
		"": false, "-lead": false, ".hidden": false, "a/b": false, "a b": false, "a:b": false,
		"ü": false, "a%2Fb": false, strings.Repeat("w", 129): false,
	}
	for id, want := range tests {
		if got := membership.ValidWorkspaceID(id); got != want {
			t.Errorf("ValidWorkspaceID(%q) = %v, want %v", id, got, want)
		}
	}
}
