package strictjson_test

import (
	"cmp"
	"errors"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/rolegate/rolegate/internal/strictjson"
)

type request struct {
	Subject  string         `json:"subject"`
	Count    int            `json:"count"`
	Resource map[string]any `json:"resource"`
	Small    small          `json:"small"`
}

// small is an object of at most two members, refused with a Problem as soon as it has
// a third.
type small map[string]jsontext.Value

func (s *small) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return cmp.Or(err, error(strictjson.Problem("must be an object")))
	}
	*s = small{}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if len(*s) == 2 {
			return strictjson.Problem("is a member too many: at most 2")
		}
		if (*s)[name.String()], err = dec.ReadValue(); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantCode string
		wantMsg  string
	}{
		{"valid", `{"subject":"u","count":1,"resource":{"a":[1,2]}}`, "", ""},
		{"duplicate key", `{"subject":"u","subject":"v"}`, strictjson.CodeDuplicateKey, `"/subject"`},
		{"keys differing in case", `{"subject":"u","Subject":"v"}`, strictjson.CodeUnknownField, `"/Subject"`},
		{"unknown field", `{"subject":"u","facts":{}}`, strictjson.CodeUnknownField, `"/facts"`},
		{"wrong type", `{"subject":7}`, strictjson.CodeInvalidField, `"/subject": expected a string, got a number`},
		{"trailing garbage", `{"subject":"u"} {}`, strictjson.CodeInvalidJSON, "invalid JSON at byte"},
		{"invalid utf-8", "{\"subject\":\"\xff\"}", strictjson.CodeInvalidJSON, "UTF-8"},
		{"not json", `subject=u`, strictjson.CodeInvalidJSON, "invalid JSON"},
		{"empty", ``, strictjson.CodeInvalidJSON, "invalid JSON"},
		{
			"too deep", `{"resource":{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}}`,
			strictjson.CodeTooDeep, "deeper than 32",
		},
		{"brackets inside strings do not count", `{"subject":"` + strings.Repeat("[", 40) + `"}`, "", ""},
		{"ten thousand levels", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strictjson.CodeTooDeep, ""},
		{
			"a problem", `{"small":{"a":1,"b":2,"c":3}}`, strictjson.CodeInvalidField,
			`field "/small/c": is a member too many`,
		},
		{"a problem of kind", `{"small":[]}`, strictjson.CodeInvalidField, `field "/small": must be an object`},
		{"within a problem's limit", `{"small":{"a":1,"b":[2]}}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r request
			err := strictjson.Decode([]byte(tt.body), &r, 0)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var serr *strictjson.Error
			if !errors.As(err, &serr) {
				t.Fatalf("error = %v, want a *strictjson.Error", err)
			}
			if serr.Code != tt.wantCode || !strings.Contains(serr.Message, tt.wantMsg) {
				t.Fatalf("error = %s %q, want %s containing %q", serr.Code, serr.Message, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{`{"subject":"u"}`, `{"a":[[[]]]}`, `"\"["`, `{`, "\xff"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r request
		err := strictjson.Decode(data, &r, 8)
		var serr *strictjson.Error
		if err != nil && !errors.As(err, &serr) {
			t.Fatalf("error of type %T: %v", err, err)
		}
	})
}
