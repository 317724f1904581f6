package authz_test

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rolegate/rolegate/internal/authz"
)

// FuzzDecodeRequest holds DecodeRequest to its contract on any body: a refusal wraps
// ErrInvalidRequest; an accepted request is valid, within every limit, made of UTF-8
// text, and decodes again, once encoded, to itself. The seed corpus is in
// testdata/fuzz/FuzzDecodeRequest.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{"subject":"u-dev","action":"miniprogram:update","resource":{"workspace":"dw-shop","id":"mp-1"}}`,
		`{"subject":"u","action":"a:b","resource":{"workspace":"w","attributes":{"n":1e400}}}`,
		`{"subject":"u","action":"a:b","resource":{"workspace":"w"},"consistency":{"at_least":"18446744073709551616"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := authz.DecodeRequest(body)
		if err != nil {
			if !errors.Is(err, authz.ErrInvalidRequest) || r != nil {
				t.Fatalf("refusal %v, %v does not wrap ErrInvalidRequest", r, err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted %q, which does not validate: %v", body, err)
		}
		checkText(t, r)
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("accepted %q, which does not encode: %v", body, err)
		}
		back, err := authz.DecodeRequest(again)
		if err != nil {
			t.Fatalf("%q, accepted and encoded as %q, is refused: %v", body, again, err)
		}
		// No attributes and an empty object of them are one request.
		if diff := cmp.Diff(r, back, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%q does not decode again to itself (-first +again):\n%s", body, diff)
		}
	})
}

// checkText fails the test when an accepted request holds a value out of bounds.
func checkText(t *testing.T, r *authz.Request) {
	t.Helper()
	for _, s := range []string{r.Subject, r.Action, r.Resource.Workspace} {
		if s == "" || len(s) > authz.MaxIDLength || !utf8.ValidString(s) {
			t.Fatalf("accepted %+v with %q", r, s)
		}
	}
	if len(r.Resource.Attributes) > authz.MaxAttributes {
		t.Fatalf("accepted %d attributes", len(r.Resource.Attributes))
	}
	for k, v := range r.Resource.Attributes {
		switch v := v.(type) {
		case string:
			if len(v) > authz.MaxValueLength || !utf8.ValidString(v) {
				t.Fatalf("accepted attribute %s = %q", k, v)
			}
		case bool, float64:
		default:
			t.Fatalf("accepted attribute %s of type %T", k, v)
		}
	}
}
