package membership_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rolegate/rolegate/internal/membership"
)

// FuzzLoad holds the membership data file loader (Decode, then Validate, as LoadFile
// does) to its contract on any file: a file that is not one fails whole, one with
// problems reports them as a *ValidationError, and a valid one reads back the same
// once written out with Encode. The seed corpus is testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"workspaces":[{"id":"tw-a","type":"tenant"}],"memberships":[]}`))
	f.Fuzz(func(t *testing.T, file []byte) {
		d, err := membership.Decode(bytes.NewReader(file))
		var verr *membership.ValidationError
		switch {
		case d == nil && (err == nil || !strings.HasPrefix(err.Error(), "decode membership data: ")):
			t.Fatalf("no data and error %v", err)
		case d == nil:
			return
		case err != nil && !errors.As(err, &verr):
			t.Fatalf("data and an error of type %T: %v", err, err)
		}
		err = membership.JoinProblems(err, d.Validate(roles))
		if err != nil {
			if !errors.As(err, &verr) || len(verr.Problems) == 0 {
				t.Fatalf("problems reported as %T: %v", err, err)
			}
			return
		}
		var out bytes.Buffer
		if err := d.Encode(&out); err != nil {
			t.Fatalf("valid data does not encode: %v", err)
		}
		back, err := membership.Decode(&out)
		if err != nil {
			t.Fatalf("valid data does not read back: %v\n%s", err, out.String())
		}
		if diff := cmp.Diff(d, back, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("valid data read back differently (-first +again):\n%s", diff)
		}
	})
}
