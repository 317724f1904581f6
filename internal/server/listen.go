package server

import (
	"log/slog"
	"net/http"
	"time"
)

// Limits of the HTTP server itself, which apply before any handler runs.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	// maxWireHeaderBytes bounds the request line and headers net/http reads. Beyond it
	// net/http itself answers a plain-text 431 and closes the connection; from
	// maxHeaderBytes up to it, limitRequest answers 431 in the error shape.
	maxWireHeaderBytes = 1 << 20
)

// HTTPServer returns the http.Server that `rolegate serve` runs the API on, with its
// timeouts and header limit; its error log goes to the server's logger at warn level.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.router,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxWireHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn),
	}
}
