package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Headers through which forward-auth gateways name the original request.
const (
	// nginx auth_request, set in its configuration: X-Original-Method $request_method
	// and X-Original-URI $request_uri.
	HeaderOriginalMethod = "X-Original-Method"
	HeaderOriginalURI    = "X-Original-URI"
	// Traefik forwardAuth sets these itself.
	HeaderForwardedMethod = "X-Forwarded-Method"
	HeaderForwardedURI    = "X-Forwarded-Uri"
)

// ForwardAuth answers a check from the HTTP forward-auth family, given the method,
// request target (http.Request.RequestURI: still encoded, query included; not
// URL.Path) and headers of the request rolegate received. It works out the original
// request:
//
//   - Envoy ext_authz in HTTP mode: the target is under Config.EnvoyPathPrefix;
//     the original method is the request's own and the original target follows the
//     prefix.
//   - nginx auth_request: X-Original-Method and X-Original-URI.
//   - Traefik forwardAuth: X-Forwarded-Method and X-Forwarded-Uri.
//
// Headers of more than one of these, a family's header without its partner, or a
// repeated one make the request invalid rather than guessed at: otherwise a client
// could name, in a header the gateway passes on, a request other than the one it
// makes. The answer's status is 200, 401 or 403 (Config.ErrorStatus on an error).
func (g *Gateway) ForwardAuth(ctx context.Context, method, uri string, h Header) (Result, Response) {
	req, err := g.original(method, uri, h)
	var res Result
	if err != nil {
		res = refuse(Invalid, CodeInvalidRequest, err)
		g.logResult(ctx, &Request{Method: method, URI: uri}, &res)
	} else {
		res = g.Check(ctx, req)
	}
	return res, g.Respond(&res)
}

// errNoOriginal means a forward-auth request does not say what the original was.
var errNoOriginal = errors.New("no original request")

func (g *Gateway) original(method, uri string, h Header) (*Request, error) {
	nginx, err := pair(h, HeaderOriginalMethod, HeaderOriginalURI)
	if err != nil {
		return nil, err
	}
	traefik, err := pair(h, HeaderForwardedMethod, HeaderForwardedURI)
	if err != nil {
		return nil, err
	}
	path, _, _ := strings.Cut(uri, "?")
	envoy := strings.HasPrefix(path, g.cfg.EnvoyPathPrefix+"/")
	switch {
	case count(envoy, nginx != nil, traefik != nil) > 1:
		return nil, fmt.Errorf("%w: the request names its original in more than one way", errNoOriginal)
	case envoy:
		return &Request{Method: method, URI: uri[len(g.cfg.EnvoyPathPrefix):], Header: h}, nil
	case nginx != nil:
		return &Request{Method: nginx[0], URI: nginx[1], Header: h}, nil
	case traefik != nil:
		return &Request{Method: traefik[0], URI: traefik[1], Header: h}, nil
	}
	return nil, fmt.Errorf("%w: expected %s and %s (nginx), %s and %s (Traefik) or a path under %s (Envoy)",
		errNoOriginal, HeaderOriginalMethod, HeaderOriginalURI,
		HeaderForwardedMethod, HeaderForwardedURI, g.cfg.EnvoyPathPrefix)
}

// pair returns the single values of a method and a URI header, nil when neither is
// present, and an error when one is missing or either is repeated.
func pair(h Header, methodName, uriName string) ([]string, error) {
	if h == nil {
		return nil, nil
	}
	m, u := h.Values(methodName), h.Values(uriName)
	switch {
	case len(m) == 0 && len(u) == 0:
		return nil, nil
	case len(m) != 1 || len(u) != 1:
		return nil, fmt.Errorf("%w: %s and %s must each appear once", errNoOriginal, methodName, uriName)
	}
	return []string{m[0], u[0]}, nil
}

func count(flags ...bool) int {
	n := 0
	for _, f := range flags {
		if f {
			n++
		}
	}
	return n
}
