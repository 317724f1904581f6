package authz

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
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
}

// Resource is what the action is performed on.
type Resource struct {
	// Workspace is the workspace the resource lives in; the caller states it.
	Workspace string `json:"workspace"`
	// ID is the mini program id, when the resource is or belongs to one.
	ID string `json:"id,omitempty"`
	// Attributes are the optional facts about the resource listed in the policy's
	// input contract. Values are strings, numbers or booleans.
	Attributes map[string]any `json:"attributes,omitempty"`
}

// ErrInvalidRequest wraps every reason a request is refused before evaluation.
var ErrInvalidRequest = errors.New("invalid request")

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
			return fmt.Errorf("%w: %s is required", ErrInvalidRequest, c.field)
		}
		if len(c.value) > c.max {
			return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalidRequest, c.field, c.max)
		}
	}
	if len(r.Resource.ID) > MaxIDLength {
		return fmt.Errorf("%w: resource.id is longer than %d bytes", ErrInvalidRequest, MaxIDLength)
	}
	return validateAttributes(r.Resource.Attributes)
}

func validateAttributes(attrs map[string]any) error {
	if len(attrs) > MaxAttributes {
		return fmt.Errorf("%w: more than %d attributes", ErrInvalidRequest, MaxAttributes)
	}
	for k, v := range attrs {
		if k == "" || len(k) > maxActionLength || !utf8.ValidString(k) {
			return fmt.Errorf("%w: attribute name %q", ErrInvalidRequest, k)
		}
		switch v := v.(type) {
		case string:
			if len(v) > MaxValueLength {
				return fmt.Errorf("%w: attribute %s is longer than %d bytes", ErrInvalidRequest, k, MaxValueLength)
			}
		case bool, float64, int, int64:
		default:
			return fmt.Errorf("%w: attribute %s must be a string, number or boolean", ErrInvalidRequest, k)
		}
	}
	return nil
}

// DecodeRequest reads one request as strict JSON (unknown fields, duplicate keys and
// trailing data are errors) and validates it.
func DecodeRequest(data []byte) (*Request, error) {
	var r Request
	if err := json.Unmarshal(data, &r, json.RejectUnknownMembers(true)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}
