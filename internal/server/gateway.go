package server

// forwardAuth answers Envoy's ext_authz in HTTP mode, nginx's auth_request and
// Traefik's forwardAuth: 200 allows, 401 asks for an identity, anything else denies.
// The gateway reads the original request from the raw request target and the headers
// each gateway sends.
func (s *Server) forwardAuth(c *ctx) {
	_, resp := s.opts.Gateway.ForwardAuth(c.Request.Context(), c.Request.Method, c.Request.RequestURI,
		c.Request.Header)
	h := c.Writer.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	c.Status(resp.Status)
	if len(resp.Body) > 0 {
		_, _ = c.Writer.Write(resp.Body)
	}
}
