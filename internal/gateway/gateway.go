// Package gateway answers API gateways (Envoy ext_authz over gRPC or HTTP, nginx
// auth_request, Traefik forwardAuth): it turns the request a gateway forwards into a
// decision. It canonicalises the path and refuses ambiguous ones, finds the route
// and the subject, and asks the decision service. Errors and timeouts never allow.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/rolegate/rolegate/internal/auth"
	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/route"
)

// Reason codes of the gateway's own answers, besides the policy's and the service's.
const (
	CodeNoRoute         = "no_route"
	CodeInvalidPath     = "invalid_path"
	CodeInvalidRequest  = "invalid_request"
	CodeUnauthenticated = "unauthenticated"
	CodeTimeout         = "timeout"
)

// Outcome is what a check came to. The zero value is Deny.
type Outcome uint8

// Outcomes of a check.
const (
	// Deny: the policy, the route table or an error said no (HTTP 403).
	Deny Outcome = iota
	// Allow: the policy allowed the subject the route's operation (HTTP 200).
	Allow
	// Unauthenticated: no valid identity (HTTP 401).
	Unauthenticated
	// Invalid: the request was refused before any decision: an ambiguous path or
	// identity, a missing method (HTTP 403).
	Invalid
)

// String returns the outcome's name for logs: allow, deny, unauthenticated, invalid.
func (o Outcome) String() string {
	switch o {
	case Allow:
		return "allow"
	case Unauthenticated:
		return "unauthenticated"
	case Invalid:
		return "invalid"
	default:
		return "deny"
	}
}

// Request is what a gateway forwards: the original method, request target and headers.
type Request struct {
	Method string
	// URI is the path and query as the client sent them, still percent-encoded.
	URI    string
	Header Header
}

// Result is the answer to one Request.
type Result struct {
	Outcome Outcome
	// Subject is who the request is from, once known.
	Subject string
	// Operation is the matched route's operation; Check is what was asked about
	// (Operation unless the route table names a coarser gateway check).
	Operation, Check string
	Resource         authz.Resource
	// Reasons explain the outcome; never empty.
	Reasons            []engine.Reason
	PolicyRevision     string
	MembershipRevision uint64
	// Err is what stood behind the outcome: why the identity or the request was
	// refused, or the error or timeout that decided a denial. It is for logs, never
	// for clients; a denial with an Err answers Config.ErrorStatus.
	Err error
}

// Gateway decides forwarded requests. It is safe for concurrent use.
type Gateway struct {
	cfg     Config
	service *authz.Service
	jwt     *auth.JWTVerifier
	log     *slog.Logger
}

// New validates the configuration (after filling defaults) and loads the JWT keys.
// Each check matches its route in, and is decided on, the policy active when it
// starts; s is required, and a nil log discards.
func New(cfg Config, s *authz.Service, log *slog.Logger) (*Gateway, error) {
	if s == nil {
		return nil, errors.New("gateway: a decision service is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	g := &Gateway{cfg: cfg, service: s, log: log}
	if cfg.JWT.Enabled() {
		v, err := auth.NewJWTVerifier(cfg.JWT)
		if err != nil {
			return nil, fmt.Errorf("gateway config: %w", err)
		}
		g.jwt = v
	}
	return g, nil
}

// Config returns the configuration in force, defaults filled in.
func (g *Gateway) Config() Config { return g.cfg }

// Check decides one forwarded request within the configured timeout.
func (g *Gateway) Check(ctx context.Context, req *Request) Result {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	res := g.check(ctx, req)
	if err := ctx.Err(); err != nil && res.Outcome != Invalid {
		res = g.timedOut(res, err)
	}
	g.logResult(ctx, req, &res)
	return res
}

func (g *Gateway) check(ctx context.Context, req *Request) Result {
	if !validMethod(req.Method) {
		return refuse(Invalid, CodeInvalidRequest, errBadMethod(req.Method))
	}
	path, err := requestPath(req.URI)
	if err != nil {
		return refuse(Invalid, CodeInvalidPath, err)
	}
	if name := methodOverride(req.Header); name != "" {
		return refuse(Invalid, CodeInvalidRequest,
			fmt.Errorf("the %s header is refused: the back end could act on another method", name))
	}
	subject, err := g.subject(ctx, req.Header)
	if err != nil {
		return identityFailure(err)
	}
	pin := g.service.Pin()
	p := pin.Policy()
	if p == nil {
		return Result{Subject: subject, Reasons: reasons(authz.CodePolicyUnavailable,
			"no policy is active"), Err: errors.New("no active policy")}
	}
	m, ok := p.Routes().Match(req.Method, path)
	if !ok {
		return Result{
			Subject: subject, PolicyRevision: p.Revision(),
			Reasons: reasons(CodeNoRoute, "no route matches "+req.Method+" "+path),
		}
	}
	return g.decide(ctx, pin, subject, m)
}

// decide asks the decision service about the matched route, on the policy whose route
// table matched it.
func (g *Gateway) decide(ctx context.Context, pin authz.Pinned, subject string, m route.Match) Result {
	areq := authz.Request{
		Subject:  subject,
		Action:   m.Route.Check,
		Resource: authz.Resource{Workspace: m.Param(route.ParamWorkspace), ID: m.Param(route.ParamID)},
	}
	if member := m.Param(route.ParamMember); member != "" {
		areq.Resource.Attributes = map[string]any{"member": member}
	}
	res := Result{Subject: subject, Operation: m.Route.Operation, Check: m.Route.Check, Resource: areq.Resource}
	if err := areq.Validate(); err != nil {
		res.Outcome, res.Reasons = Invalid, reasons(CodeInvalidRequest, err.Error())
		return res
	}
	d := g.service.DecidePinned(ctx, pin, &areq)
	res.Reasons, res.Err = d.Reasons, d.Err
	res.PolicyRevision, res.MembershipRevision = d.PolicyRevision, d.MembershipRevision
	if d.Allow && d.Err == nil {
		res.Outcome = Allow
	}
	return res
}

// maxMethodBytes bounds a method; the longest registered one has 17 bytes.
const maxMethodBytes = 32

// validMethod reports whether m is an HTTP method (a token) of sensible length.
func validMethod(m string) bool { return len(m) <= maxMethodBytes && headerName(m) }

// errBadMethod says what is wrong with a method without repeating a long one.
func errBadMethod(m string) error {
	if len(m) > maxMethodBytes {
		return fmt.Errorf("the method is longer than %d bytes", maxMethodBytes)
	}
	return fmt.Errorf("the method %q is not an HTTP method", m)
}

// methodOverrideHeaders make some frameworks act on a method other than the request's.
var methodOverrideHeaders = []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}

// methodOverride returns the name of a method-override header the request carries.
func methodOverride(h Header) string {
	if h == nil {
		return ""
	}
	for _, name := range methodOverrideHeaders {
		if len(h.Values(name)) > 0 {
			return name
		}
	}
	return ""
}

// requestPath returns the canonical path of a request target.
func requestPath(uri string) (string, error) {
	raw, _, err := SplitURI(uri)
	if err != nil {
		return "", err
	}
	return CanonicalPath(raw)
}

// identityFailure answers a request without a single valid subject. The client
// learns whether a credential was missing or did not verify, not why.
func identityFailure(err error) Result {
	if errors.Is(err, errAmbiguousIdentity) {
		return refuse(Invalid, CodeInvalidRequest, err)
	}
	msg := "no credential: send a bearer token"
	if errors.Is(err, errBadIdentity) {
		msg = "the credential is not valid"
	}
	return Result{Outcome: Unauthenticated, Reasons: reasons(CodeUnauthenticated, msg), Err: err}
}

// refuse is a result decided before any decision, with err's text as the message.
func refuse(o Outcome, code string, err error) Result {
	return Result{Outcome: o, Reasons: reasons(code, err.Error()), Err: err}
}

// timedOut turns whatever a check came to into a denial once its time is up.
func (g *Gateway) timedOut(res Result, err error) Result {
	res.Outcome = Deny
	res.Reasons = reasons(CodeTimeout, fmt.Sprintf("the check did not finish within %s", g.cfg.Timeout))
	res.Err = fmt.Errorf("check: %w", err)
	return res
}

func reasons(code, message string) []engine.Reason {
	return []engine.Reason{{Code: code, Message: message}}
}

// firstReason is the reason an answer names; a result without one (which the
// service never gives) still answers with a code.
func (r *Result) firstReason() engine.Reason {
	if len(r.Reasons) == 0 {
		return engine.Reason{Code: "not_granted", Message: "no reason was given"}
	}
	return r.Reasons[0]
}

// allReasons are the reasons an answer lists; never empty.
func (r *Result) allReasons() []engine.Reason {
	if len(r.Reasons) == 0 {
		return []engine.Reason{r.firstReason()}
	}
	return r.Reasons
}
