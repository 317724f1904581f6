package server

import (
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/engine"
)

// TestAppendDecisionIsMarshal holds the decision endpoint's hand-written encoding to
// json.Marshal's, byte for byte.
func TestAppendDecisionIsMarshal(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    decisionResponse
	}{
		{"allow", decisionResponse{
			DecisionID: "01a23d36-715d-766f-befd-a6f98648a214", Allow: true,
			Reasons:  []engine.Reason{{Code: "granted", Message: "developer of dw-shop grants miniprogram:update"}},
			Revision: revision{Policy: "dc8e2fcead4aaee5", Membership: "1"},
		}},
		{"deny, several reasons", decisionResponse{
			DecisionID: "x",
			Reasons: []engine.Reason{
				{Code: "member_blocked", Message: "u-x is blocked in dw-y"},
				{Code: "not_assigned", Message: "mp-2 is not assigned"},
			},
			Revision: revision{Membership: "42"},
		}},
		{"escapes", decisionResponse{
			DecisionID: "a\"b\\c", Reasons: []engine.Reason{
				{Code: "c", Message: "quote \" slash \\ tab \t newline \n nul \x00 <html> & é ☃ \u2028"},
			},
		}},
		{"no reasons", decisionResponse{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(&tc.r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendDecision(nil, &tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Fatalf("(-Marshal +appendDecision):\n%s", diff)
			}
		})
	}
}

func TestAppendDecisionRefusesInvalidUTF8(t *testing.T) {
	r := decisionResponse{Reasons: []engine.Reason{{Code: "c", Message: "bad \xff"}}}
	if _, err := appendDecision(nil, &r); err == nil {
		t.Fatal("invalid UTF-8 encoded without an error")
	}
	if _, err := json.Marshal(&r); err == nil {
		t.Fatal("json.Marshal accepts invalid UTF-8; then appendDecision should too")
	}
}
