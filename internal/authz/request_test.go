package authz_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/authz"
)

func TestDecodeRequest(t *testing.T) {
	long := strings.Repeat("x", authz.MaxIDLength+1)
	tests := []struct {
		name    string
		body    string
		wantErr string // empty: valid
	}{
		{
			"valid", `{"subject":"u","action":"a:b","resource":{"workspace":"w","id":"mp",` +
				`"attributes":{"approved":true,"published_miniprograms":0,"state":"in_review"}}}`, "",
		},
		{"missing subject", `{"action":"a:b","resource":{"workspace":"w"}}`, "subject is required"},
		{"missing action", `{"subject":"u","resource":{"workspace":"w"}}`, "action is required"},
		{"missing workspace", `{"subject":"u","action":"a:b","resource":{}}`, "resource.workspace is required"},
		{"unknown field", `{"subject":"u","action":"a:b","resource":{"workspace":"w"},"facts":{}}`, `unknown field "/facts"`},
		{"duplicate key", `{"subject":"u","subject":"v","action":"a:b","resource":{"workspace":"w"}}`, "duplicate"},
		{"wrong type", `{"subject":1,"action":"a:b","resource":{"workspace":"w"}}`, "/subject"},
		{
			"nested attribute", `{"subject":"u","action":"a:b","resource":{"workspace":"w","attributes":{"x":{"y":1}}}}`,
			"string, number or boolean",
		},
		{"trailing garbage", `{"subject":"u","action":"a:b","resource":{"workspace":"w"}} x`, "invalid"},
		{"invalid utf-8", "{\"subject\":\"u\xff\",\"action\":\"a:b\",\"resource\":{\"workspace\":\"w\"}}", "UTF-8"},
		{
			"33 attributes", `{"subject":"u","action":"a:b","resource":{"workspace":"w","attributes":{"x":0` +
				attrs(32) + `}}}`, "more than 32 attributes",
		},
		{"subject too long", `{"subject":"` + long + `","action":"a:b","resource":{"workspace":"w"}}`, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := authz.DecodeRequest([]byte(tt.body))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if !errors.Is(err, authz.ErrInvalidRequest) {
				t.Fatalf("error %v does not wrap ErrInvalidRequest", err)
			}
		})
	}
}

// TestValidateRefusesInvalidUTF8 covers requests that are not decoded from JSON, such
// as the permissions query, whose values can hold any bytes.
func TestValidateRefusesInvalidUTF8(t *testing.T) {
	valid := func() authz.Request {
		return authz.Request{Subject: "u", Action: "a:b", Resource: authz.Resource{Workspace: "w", ID: "mp"}}
	}
	tests := []struct {
		name  string
		edit  func(r *authz.Request)
		field string
	}{
		{"subject", func(r *authz.Request) { r.Subject = "u\xff" }, "subject"},
		{"action", func(r *authz.Request) { r.Action = "a:\xc0" }, "action"},
		{"workspace", func(r *authz.Request) { r.Resource.Workspace = "\xfew" }, "resource.workspace"},
		{"resource id", func(r *authz.Request) { r.Resource.ID = "mp\xed\xa0\x80" }, "resource.id"},
		{
			"attribute value",
			func(r *authz.Request) { r.Resource.Attributes = map[string]any{"state": "in\xff"} },
			"resource.attributes.state",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid()
			tt.edit(&r)
			var fe *authz.FieldError
			if err := r.Validate(); !errors.As(err, &fe) || fe.Field != tt.field || fe.Missing {
				t.Fatalf("Validate() = %v, want an invalid %s", err, tt.field)
			}
		})
	}
}

// attrs returns n attributes to follow a first one: ,"a0":0,"a1":1...
func attrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `,"a%d":%d`, i, i)
	}
	return b.String()
}
