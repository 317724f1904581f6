package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/strictjson"
)

// ctx is the request context handlers receive.
type ctx = gin.Context

// apiError is a failure with the status, code and message the client sees. Err is the
// detail for the log, never sent.
type apiError struct {
	Status  int
	Code    string
	Message string
	Err     error
}

func (e *apiError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *apiError) Unwrap() error { return e.Err }

// errorBody is the one error shape of every route.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func badRequest(code, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

func internalError(detail string) *apiError {
	return &apiError{
		Status: http.StatusInternalServerError, Code: "internal",
		Message: "internal error", Err: errors.New(detail),
	}
}

// handle adapts a handler that returns an error into a Gin handler.
func (s *Server) handle(h func(c *ctx) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.writeError(c, err)
		}
	}
}

// writeError answers with err in the error shape and logs what the client does not see.
// A forward-auth request is answered as its gateway expects instead.
func (s *Server) writeError(c *gin.Context, err error) {
	ae := asAPIError(err)
	switch {
	case ae.Status == http.StatusServiceUnavailable:
		s.opts.Logger.Warn("request unavailable", "route", c.FullPath(), "code", ae.Code, "error", ae)
	case ae.Status >= 500:
		s.opts.Logger.Error("request failed", "route", c.FullPath(), "code", ae.Code, "error", ae)
	default:
		s.opts.Logger.Debug("request refused", "route", c.FullPath(), "code", ae.Code, "status", ae.Status)
	}
	if s.isGatewayRequest(c.Request) {
		s.writeGatewayRefusal(c, ae)
		return
	}
	s.writeJSON(c, ae.Status, errorBody{Error: errorDetail{Code: ae.Code, Message: ae.Message}})
}

// asAPIError maps any error a handler returns to what the client sees.
func asAPIError(err error) *apiError {
	var ae *apiError
	var je *strictjson.Error
	var fe *authz.FieldError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &je):
		return &apiError{Status: http.StatusBadRequest, Code: je.Code, Message: je.Message, Err: err}
	case errors.As(err, &fe):
		code := "invalid_field"
		if fe.Missing {
			code = "missing_field"
		}
		return &apiError{Status: http.StatusBadRequest, Code: code, Message: fe.Field + " " + fe.Problem, Err: err}
	}
	return &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error", Err: err}
}
