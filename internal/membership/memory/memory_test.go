package memory_test

import (
	"testing"

	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/membership/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) membership.Store {
		s := memory.New(&membership.Data{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestNewStartsAtRevisionOne(t *testing.T) {
	s := memory.New(storetest.Sample())
	rev, err := s.Revision(t.Context())
	if err != nil || rev != 1 {
		t.Fatalf("revision = %d, %v; want 1", rev, err)
	}
	got, err := s.UserMemberships(t.Context(), "u-ann")
	if err != nil {
		t.Fatal(err)
	}
	want := []membership.Membership{storetest.Sample().Memberships[6], storetest.Sample().Memberships[0]}
	if diff := storetest.Diff(want, got); diff != "" {
		t.Fatalf("memberships of u-ann, by workspace (-want +got):\n%s", diff)
	}
}
