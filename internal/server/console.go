package server

import (
	"bytes"
	"net/http"
	"time"

	"github.com/rolegate/rolegate/internal/console"
)

// consolePage serves the web console's pages and assets under console.Prefix. Every
// answer, a 404 included, carries the console's security headers; a file is served
// with its ETag and must be revalidated before each use.
func (s *Server) consolePage(c *ctx) error {
	console.SetHeaders(c.Writer.Header())
	f, ok := console.Lookup(c.Param("path"))
	if !ok {
		return &apiError{
			Status: http.StatusNotFound, Code: "not_found",
			Message: "no console page " + c.Request.URL.Path,
		}
	}
	h := c.Writer.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Cache-Control", console.CacheControl)
	h.Set("ETag", f.ETag)
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(f.Body))
	return nil
}
