// Package strictjson decodes untrusted JSON into Go values and refuses anything
// ambiguous: duplicate keys, unknown fields, invalid UTF-8, trailing data and nesting
// deeper than a limit. Its errors say what was wrong in words meant for the sender.
package strictjson

import (
	"errors"
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DefaultMaxDepth is the nesting limit Decode applies when given none.
const DefaultMaxDepth = 32

// Error codes, stable and snake_case, for the API's error shape.
const (
	CodeInvalidJSON  = "invalid_json"
	CodeDuplicateKey = "duplicate_key"
	CodeUnknownField = "unknown_field"
	CodeInvalidField = "invalid_field"
	CodeTooDeep      = "too_deep"
)

// Problem is what a type's UnmarshalJSONFrom method returns to refuse the value it is
// reading, such as one member too many; Decode reports it as an invalid field, at
// the point where reading stopped. Refusing while reading spares decoding the rest.
type Problem string

func (p Problem) Error() string { return string(p) }

// Error is a decoding failure described for the sender.
type Error struct {
	Code    string
	Message string
	err     error
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.err }

// Decode unmarshals data into v. Nesting deeper than maxDepth (DefaultMaxDepth when
// zero) is refused before any decoding.
func Decode(data []byte, v any, maxDepth int) error {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if d := depth(data); d > maxDepth {
		return &Error{Code: CodeTooDeep, Message: fmt.Sprintf("JSON nests deeper than %d levels", maxDepth)}
	}
	if err := json.Unmarshal(data, v, json.RejectUnknownMembers(true)); err != nil {
		return describe(err)
	}
	return nil
}

// depth returns how deeply data's arrays and objects nest, without decoding it. It
// stops counting once the depth cannot matter any more.
func depth(data []byte) int {
	level, deepest, inString, escaped := 0, 0, false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			level++
			deepest = max(deepest, level)
		case c == '}' || c == ']':
			level--
		}
	}
	return deepest
}

func describe(err error) *Error {
	var semErr *json.SemanticError
	var synErr *jsontext.SyntacticError
	var problem Problem
	switch {
	case errors.As(err, &problem):
		return &Error{Code: CodeInvalidField, Message: fmt.Sprintf("field %s: %s", pointerOf(err), problem), err: err}
	case errors.Is(err, jsontext.ErrDuplicateName):
		return &Error{Code: CodeDuplicateKey, Message: "duplicate key " + pointerOf(err), err: err}
	case errors.Is(err, json.ErrUnknownName):
		return &Error{Code: CodeUnknownField, Message: "unknown field " + pointerOf(err), err: err}
	case errors.As(err, &semErr):
		msg := fmt.Sprintf("field %s has the wrong type", where(string(semErr.JSONPointer)))
		if semErr.GoType != nil && semErr.JSONKind != 0 {
			msg = fmt.Sprintf("field %s: expected %s, got %s", where(string(semErr.JSONPointer)),
				kindOf(semErr.GoType.Kind().String()), jsonKind(semErr.JSONKind))
		}
		if semErr.Err != nil && semErr.GoType == nil {
			msg = fmt.Sprintf("field %s: %v", where(string(semErr.JSONPointer)), semErr.Err)
		}
		return &Error{Code: CodeInvalidField, Message: msg, err: err}
	case errors.As(err, &synErr):
		return &Error{Code: CodeInvalidJSON, Message: fmt.Sprintf("invalid JSON at byte %d: %v",
			synErr.ByteOffset, synErr.Err), err: err}
	}
	return &Error{Code: CodeInvalidJSON, Message: "invalid JSON", err: err}
}

func pointerOf(err error) string {
	var semErr *json.SemanticError
	if errors.As(err, &semErr) {
		return where(string(semErr.JSONPointer))
	}
	var synErr *jsontext.SyntacticError
	if errors.As(err, &synErr) {
		return where(string(synErr.JSONPointer))
	}
	return "(somewhere)"
}

func where(pointer string) string {
	if pointer == "" {
		return "(top level)"
	}
	return fmt.Sprintf("%q", pointer)
}

func kindOf(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "int", "int64", "uint64", "float64", "int32", "uint32":
		return "a number"
	}
	return goKind
}

func jsonKind(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "another kind of value"
}
