package server

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/rolegate/rolegate/internal/gateway"
)

// forwardAuth answers Envoy's ext_authz in HTTP mode, nginx's auth_request and
// Traefik's forwardAuth: 200 allows, 401 asks for an identity, anything else denies.
// The gateway reads the original request from the raw request target and the headers
// each gateway sends.
func (s *Server) forwardAuth(c *ctx) {
	_, resp := s.opts.Gateway.ForwardAuth(c.Request.Context(), c.Request.Method, c.Request.RequestURI,
		c.Request.Header)
	writeGatewayResponse(c, resp)
}

func writeGatewayResponse(c *gin.Context, resp gateway.Response) {
	h := c.Writer.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	c.Status(resp.Status)
	if len(resp.Body) > 0 {
		_, _ = c.Writer.Write(resp.Body)
	}
}

// isGatewayRequest reports whether r is addressed to the forward-auth family, whose
// callers understand only 200, 401 and a denial.
func (s *Server) isGatewayRequest(r *http.Request) bool {
	g := s.opts.Gateway
	if g == nil {
		return false
	}
	return r.URL.Path == gateway.ForwardAuthPath || strings.HasPrefix(r.URL.Path, g.Config().EnvoyPathPrefix+"/")
}

// writeGatewayRefusal answers a forward-auth request that failed before its check as
// the gateway answers a denial, so that a gateway never sees 405, 413 or 500 from
// rolegate and never lets the request through.
func (s *Server) writeGatewayRefusal(c *gin.Context, ae *apiError) {
	writeGatewayResponse(c, s.opts.Gateway.Refused(ae.Code, ae.Message, ae.Status >= http.StatusInternalServerError))
}
