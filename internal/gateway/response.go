package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/rolegate/rolegate/internal/engine"
)

// Response is what to answer a gateway: the status, the headers (on an allow, the
// subject for the upstream) and, unless allowed, a JSON body.
type Response struct {
	Status int
	Header http.Header
	// Body is the decision shape of docs/policy.md for a denial,
	// {"allow": false, "reasons": [...]}, or the error shape,
	// {"error": {"code": ..., "message": ...}}, for a 401 or an invalid request.
	Body []byte
}

// decisionBody and errorBody are the two JSON shapes of a refusal.
type (
	decisionBody struct {
		Allow   bool            `json:"allow"`
		Reasons []engine.Reason `json:"reasons"`
	}
	errorBody struct {
		Error engine.Reason `json:"error"`
	}
)

// Status is the HTTP status that answers res: 200 allow, 401 no valid identity, 403
// deny or invalid, Config.ErrorStatus for an error or a timeout. Never 200 unless
// the policy allowed.
func (g *Gateway) Status(res *Result) int {
	switch {
	case res.Outcome == Allow && res.Err == nil:
		return http.StatusOK
	case res.Outcome == Unauthenticated:
		return http.StatusUnauthorized
	case res.Outcome == Deny && res.Err != nil:
		return g.cfg.ErrorStatus
	default:
		return http.StatusForbidden
	}
}

// Respond builds the answer to res.
func (g *Gateway) Respond(res *Result) Response {
	r := Response{Status: g.Status(res), Header: make(http.Header, 2)}
	switch r.Status {
	case http.StatusOK:
		r.Header.Set(g.cfg.SubjectHeader, res.Subject)
		return r
	case http.StatusUnauthorized:
		r.Body = marshal(errorBody{Error: res.firstReason()})
		r.Header.Set("WWW-Authenticate", `Bearer realm="rolegate"`)
	default:
		if res.Outcome == Invalid {
			r.Body = marshal(errorBody{Error: res.firstReason()})
		} else {
			r.Body = marshal(decisionBody{Reasons: res.allReasons()})
		}
	}
	r.Header.Set("Content-Type", "application/json")
	return r
}

// Refused answers a forward-auth request that the HTTP layer refused before it came to
// a check: one too large, with a method nothing routes, or whose handler failed. It is
// a denial in the gateway's terms, never a 200 and no status a check could not give:
// 403 for a request that is invalid, Config.ErrorStatus for a failure (failed true).
func (g *Gateway) Refused(code, message string, failed bool) Response {
	res := refuse(Invalid, code, errors.New(message))
	if failed {
		res.Outcome = Deny
	}
	return g.Respond(&res)
}

func marshal(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil { // the shapes above always marshal
		return []byte(`{"allow":false,"reasons":[{"code":"internal","message":"unencodable"}]}`)
	}
	return data
}

// logResult writes one debug line per check, or a warning when an error or timeout
// decided it. Never a token or a header value: the subject, method, path and codes.
func (g *Gateway) logResult(ctx context.Context, req *Request, res *Result) {
	level := slog.LevelDebug
	if res.Outcome == Deny && res.Err != nil {
		level = slog.LevelWarn
	}
	if !g.log.Enabled(ctx, level) {
		return
	}
	codes := make([]string, len(res.Reasons))
	for i, r := range res.Reasons {
		codes[i] = r.Code
	}
	path, _, _ := strings.Cut(req.URI, "?")
	if len(path) > maxLoggedPath {
		path = path[:maxLoggedPath] + "..."
	}
	attrs := []any{
		"outcome", res.Outcome.String(), "method", req.Method, "path", path,
		"subject", res.Subject, "operation", res.Operation, "reasons", codes,
	}
	if res.Err != nil {
		attrs = append(attrs, "error", res.Err.Error())
	}
	g.log.Log(ctx, level, "gateway check", attrs...)
}

// maxLoggedPath bounds the path a log line repeats.
const maxLoggedPath = 256
