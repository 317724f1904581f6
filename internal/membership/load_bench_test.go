package membership_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/rolegate/rolegate/internal/membership"
)

// largeFile encodes n memberships, ten per user, of tenants and developer workspaces.
func largeFile(b *testing.B, n int) []byte {
	b.Helper()
	d := &membership.Data{}
	workspaces := n / 100
	for w := range workspaces {
		ws := membership.Workspace{ID: fmt.Sprintf("tw-%06d", w), Type: membership.TypeTenant}
		if w%10 != 0 {
			ws = membership.Workspace{
				ID: fmt.Sprintf("dw-%06d", w), Type: membership.TypeDeveloper,
				Tenant: fmt.Sprintf("tw-%06d", w/10*10),
			}
		}
		d.Workspaces = append(d.Workspaces, ws)
	}
	for i := range n {
		w := d.Workspaces[i%workspaces]
		m := membership.Membership{
			User: fmt.Sprintf("u-%07d", i/workspaces), Workspace: w.ID, Status: membership.StatusActive,
			Role: "workspace_admin",
		}
		if w.Type == membership.TypeDeveloper {
			m.Role, m.MiniPrograms = "developer", []string{"mp-1", "mp-2"}
		}
		d.Memberships = append(d.Memberships, m)
	}
	var buf bytes.Buffer
	if err := d.Encode(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkDecodeValidate measures what loading a data file of 100,000 memberships
// costs before any store is built: decoding and validation.
func BenchmarkDecodeValidate(b *testing.B) {
	raw := largeFile(b, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		d, err := membership.Decode(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Validate(roles); err != nil {
			b.Fatal(err)
		}
	}
}
