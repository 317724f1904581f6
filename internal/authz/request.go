package authz

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/rolegate/rolegate/internal/strictjson"
)

// Limits on a request's text, so that no caller can make a decision expensive.
const (
	MaxIDLength     = 256
	MaxAttributes   = 32
	MaxValueLength  = 1024
	maxActionLength = 128
)

// Request asks whether a subject may perform an action on a resource.
type Request struct {
	Subject  string   `json:"subject"`
	Action   string   `json:"action"`
	Resource Resource `json:"resource"`
	// Consistency asks for a decision on membership data at least as fresh as a
	// given write's.
	Consistency *Consistency `json:"consistency,omitempty"`
}

// Consistency names the membership revision a decision must see at least.
type Consistency struct {
	// AtLeast is a membership revision as a write returned it (its consistency token).
	AtLeast string `json:"at_least"`
}

// Revision returns the revision asked for.
func (c *Consistency) Revision() (uint64, error) {
	rev, err := strconv.ParseUint(c.AtLeast, 10, 64)
	if err != nil || rev == 0 {
		return 0, invalid("consistency.at_least", "must be a membership revision (a positive whole number)")
	}
	return rev, nil
}

// Resource is what the action is performed on.
type Resource struct {
	// Workspace is the workspace the resource lives in; the caller states it.
	Workspace string `json:"workspace"`
	// ID is the mini program id, when the resource is or belongs to one.
	ID string `json:"id,omitempty"`
	// Attributes are the optional facts about the resource listed in the policy's
	// input contract. Values are strings, numbers or booleans.
	Attributes Attributes `json:"attributes,omitempty"`
}

// Attributes are a resource's attributes by name: at most MaxAttributes strings,
// numbers or booleans.
type Attributes map[string]any

// UnmarshalJSONFrom reads attributes, refusing them at the first one too many or of
// another kind: a body of many attributes is refused for the cost of reading it.
func (a *Attributes) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	m, err := DecodeScalars(dec, "attributes", MaxAttributes)
	*a = m
	return err
}

// DecodeScalars reads a JSON object of at most limit members (named what in errors)
// whose values are strings, numbers or booleans, or null for none. It stops with a
// strictjson.Problem at the first member too many or of another kind, without
// reading further.
func DecodeScalars(dec *jsontext.Decoder, what string, limit int) (map[string]any, error) {
	tok, err := dec.ReadToken()
	switch {
	case err != nil:
		return nil, err
	case tok.Kind() == 'n':
		return nil, nil
	case tok.Kind() != '{':
		return nil, strictjson.Problem("must be an object")
	}
	m := make(map[string]any)
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		if len(m) == limit {
			return nil, strictjson.Problem(fmt.Sprintf("is one of more than %d %s", limit, what))
		}
		key := name.String() // before the next read voids name
		v, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		if m[key], err = scalar(v); err != nil {
			return nil, err
		}
	}
	_, err = dec.ReadToken()
	return m, err
}

// scalar returns a string, number or boolean token as the value JSON decoding gives it.
func scalar(tok jsontext.Token) (any, error) {
	switch tok.Kind() {
	case '"':
		return tok.String(), nil
	case '0':
		f, err := tok.Float()
		if err != nil {
			return nil, strictjson.Problem("is a number out of range")
		}
		return f, nil
	case 't', 'f':
		return tok.Bool(), nil
	}
	return nil, strictjson.Problem("must be a string, number or boolean")
}

// ErrInvalidRequest wraps every reason a request is refused before evaluation.
var ErrInvalidRequest = errors.New("invalid request")

// FieldError is a request refused for one field; it wraps ErrInvalidRequest.
type FieldError struct {
	Field string
	// Missing is true when the field is required and absent, false when its value
	// is not acceptable.
	Missing bool
	Problem string
}

func (e *FieldError) Error() string { return "invalid request: " + e.Field + " " + e.Problem }

func (e *FieldError) Unwrap() error { return ErrInvalidRequest }

func missing(field string) error {
	return &FieldError{Field: field, Missing: true, Problem: "is required"}
}

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Validate checks that the required fields are present and every value is within
// limits. It reports the first problem.
func (r *Request) Validate() error {
	checks := []struct {
		field, value string
		max          int
	}{
		{"subject", r.Subject, MaxIDLength},
		{"action", r.Action, maxActionLength},
		{"resource.workspace", r.Resource.Workspace, MaxIDLength},
	}
	for _, c := range checks {
		if c.value == "" {
			return missing(c.field)
		}
		if err := checkText(c.field, c.value, c.max); err != nil {
			return err
		}
	}
	if err := checkText("resource.id", r.Resource.ID, MaxIDLength); err != nil {
		return err
	}
	if r.Consistency != nil {
		if _, err := r.Consistency.Revision(); err != nil {
			return err
		}
	}
	return validateAttributes(r.Resource.Attributes)
}

func validateAttributes(attrs map[string]any) error {
	if len(attrs) > MaxAttributes {
		return invalid("resource.attributes", "has more than %d attributes", MaxAttributes)
	}
	for k, v := range attrs {
		field := "resource.attributes." + k
		if k == "" || len(k) > maxActionLength || !utf8.ValidString(k) {
			return invalid("resource.attributes", "has an invalid name %q", k)
		}
		switch v := v.(type) {
		case string:
			if err := checkText(field, v, MaxValueLength); err != nil {
				return err
			}
		case bool, float64, int, int64:
		default:
			return invalid(field, "must be a string, number or boolean")
		}
	}
	return nil
}

// checkText refuses a value longer than max bytes or that is not UTF-8. JSON bodies are
// UTF-8 already; a query parameter or a path segment can hold any bytes.
func checkText(field, value string, max int) error {
	if len(value) > max {
		return invalid(field, "is longer than %d bytes", max)
	}
	if !utf8.ValidString(value) {
		return invalid(field, "is not valid UTF-8")
	}
	return nil
}

// DecodeRequest reads one request as strict JSON (see package strictjson) and
// validates it.
func DecodeRequest(data []byte) (*Request, error) {
	var r Request
	if err := strictjson.Decode(data, &r, 0); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}
