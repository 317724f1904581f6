package storetest

import (
	"testing"

	"github.com/rolegate/rolegate/internal/membership"
)

func testImportMerge(t *testing.T, s membership.Store) {
	ctx := Context(t)
	load(t, s, Sample())
	more := &membership.Data{
		Workspaces: []membership.Workspace{
			{ID: "tw-c", Type: membership.TypeTenant},
			{ID: "dw-x", Type: membership.TypeDeveloper, Tenant: "tw-b"},
		},
		Memberships: []membership.Membership{
			active("u-cat", "tw-c", "workspace_admin"),
			{User: "u-ann", Workspace: "dw-x", Role: "operator", Status: membership.StatusBlocked},
		},
	}
	rev, err := s.Import(ctx, more, false)
	if err != nil {
		t.Fatal(err)
	}
	sync(t, s, rev)

	want := Sample()
	want.Workspaces[2].Tenant = "tw-b"
	want.Workspaces = append(want.Workspaces, more.Workspaces[0])
	want.Memberships[6] = more.Memberships[1]
	want.Memberships = append(want.Memberships, more.Memberships[0])
	if diff := Diff(sorted(want), export(t, s)); diff != "" {
		t.Errorf("export after a merging import (-want +got):\n%s", diff)
	}
	if w, err := s.Workspace(ctx, "dw-x"); err != nil || w.Tenant != "tw-b" {
		t.Errorf("workspace dw-x = %v, %v; want its new tenant tw-b", w, err)
	}
	wantAnn := []membership.Membership{more.Memberships[1], active("u-ann", "tw-a", "workspace_admin")}
	if diff := Diff(wantAnn, userMemberships(t, s, "u-ann")); diff != "" {
		t.Errorf("memberships of u-ann (-want +got):\n%s", diff)
	}
}

func testImportReplace(t *testing.T, s membership.Store) {
	ctx := Context(t)
	load(t, s, Sample())
	// Read first, so that a cache holds facts the import removes.
	userMemberships(t, s, "u-tom")
	if _, err := s.Workspace(ctx, "tw-b"); err != nil {
		t.Fatal(err)
	}

	only := &membership.Data{
		Workspaces:  []membership.Workspace{{ID: "tw-c", Type: membership.TypeTenant}},
		Memberships: []membership.Membership{active("u-cat", "tw-c", "workspace_admin")},
	}
	load(t, s, only)
	if diff := Diff(only, export(t, s)); diff != "" {
		t.Errorf("export after a replacing import (-want +got):\n%s", diff)
	}
	if ms := userMemberships(t, s, "u-tom"); len(ms) != 0 {
		t.Errorf("memberships of u-tom after the replace = %v, want none", ms)
	}
	if _, err := s.Workspace(ctx, "tw-b"); err == nil {
		t.Errorf("workspace tw-b is still there after the replace")
	}
	if _, err := s.Members(ctx, "tw-a"); err == nil {
		t.Errorf("members of tw-a are still there after the replace")
	}
}

func testExportRoundTrip(t *testing.T, s membership.Store) {
	ctx := Context(t)
	load(t, s, Sample())
	d := export(t, s)
	if diff := Diff(sorted(Sample()), d); diff != "" {
		t.Fatalf("export (-want +got):\n%s", diff)
	}
	rev := revision(t, s)
	again, err := s.Import(ctx, d, true)
	if err != nil {
		t.Fatal(err)
	}
	sync(t, s, again)
	if again <= rev {
		t.Errorf("importing the export returned revision %d, want more than %d", again, rev)
	}
	if diff := Diff(d, export(t, s)); diff != "" {
		t.Errorf("export after importing the export (-want +got):\n%s", diff)
	}
}
