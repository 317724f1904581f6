package server

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/rolegate/rolegate/internal/strictjson"
)

// Limits beyond the body's, applied to every request before routing.
const (
	maxQueryBytes  = 8 << 10
	maxHeaderBytes = 64 << 10
)

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// limitRequest refuses requests whose query or headers are too large, before any
// handler runs.
func (s *Server) limitRequest(c *gin.Context) {
	if len(c.Request.URL.RawQuery) > maxQueryBytes {
		s.writeError(c, &apiError{
			Status: http.StatusRequestURITooLong, Code: "query_too_large",
			Message: "the query string is longer than 8 KiB",
		})
		c.Abort()
		return
	}
	size := 0
	for k, vs := range c.Request.Header {
		for _, v := range vs {
			size += len(k) + len(v)
		}
	}
	if size > maxHeaderBytes {
		s.writeError(c, &apiError{
			Status: http.StatusRequestHeaderFieldsTooLarge, Code: "headers_too_large",
			Message: "the request headers are larger than 64 KiB",
		})
		c.Abort()
	}
}

// readJSON reads the request body into v: it must be JSON (by content type, not
// compressed), within the size and nesting limits, and strictly well formed.
func (s *Server) readJSON(c *gin.Context, v any) error {
	if err := checkContentType(c.Request); err != nil {
		return err
	}
	limit := s.opts.Limits.MaxBodyBytes
	if c.Request.ContentLength > limit {
		// Declared too large: refused before a byte is read.
		return bodyTooLarge(limit)
	}
	bp := bodies.Get().(*[]byte)
	defer bodies.Put(bp)

	body, err := readBody((*bp)[:0], http.MaxBytesReader(c.Writer, c.Request.Body, limit),
		c.Request.ContentLength, limit)
	*bp = body
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return bodyTooLarge(limit)
	case err != nil:
		return badRequest("invalid_body", "the request body could not be read")
	}
	return strictjson.Decode(body, v, s.opts.Limits.MaxDepth)
}

// bodies are buffers for request bodies.
var bodies = sync.Pool{New: func() any { b := make([]byte, 0, minBodyBuffer); return &b }}

const minBodyBuffer = 4 << 10

// readBody appends r, which returns at most limit bytes, to b. It sizes b for the
// declared length when there is one, and otherwise doubles it as needed but never
// beyond limit+1 bytes, enough to see the read past the limit fail: a body is never
// buffered beyond the limit, and reaching it allocates about three times the limit.
func readBody(b []byte, r io.Reader, declared, limit int64) ([]byte, error) {
	if declared >= 0 && int64(cap(b)) <= declared {
		b = slices.Grow(b, int(declared)+1)
	}
	for {
		if len(b) == cap(b) {
			grown := make([]byte, len(b), min(max(2*cap(b), minBodyBuffer), int(limit)+1))
			copy(grown, b)
			b = grown
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case errors.Is(err, io.EOF):
			return b, nil
		case err != nil:
			return b, err
		}
	}
}

func bodyTooLarge(limit int64) *apiError {
	return &apiError{
		Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
		Message: "the request body is larger than the limit of " + formatBytes(limit),
	}
}

func checkContentType(r *http.Request) error {
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return &apiError{
			Status: http.StatusUnsupportedMediaType, Code: "unsupported_encoding",
			Message: "compressed request bodies are not accepted",
		}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "application/json" {
		return nil // the usual case, without parsing parameters into a map
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !hasJSONSuffix(mt)) {
		return &apiError{
			Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "the request body must be JSON (Content-Type: application/json)",
		}
	}
	return nil
}

func hasJSONSuffix(mt string) bool { return len(mt) > 5 && mt[len(mt)-5:] == "+json" }

// writeJSON answers with v as JSON. Invalid UTF-8 in a string, such as a path echoed
// in a message, is written as U+FFFD rather than failing the answer.
func (s *Server) writeJSON(c *gin.Context, status int, v any) {
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer buffers.Put(buf)
	if err := json.MarshalWrite(buf, v, jsontext.AllowInvalidUTF8(true)); err != nil {
		s.opts.Logger.Error("encode response", "error", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	buf.WriteByte('\n')
	c.Header("Content-Type", "application/json")
	c.Status(status)
	_, _ = io.Copy(c.Writer, buf)
}

// wrap serves an http.Handler, such as the metrics handler, as a route.
func (s *Server) wrap(h http.Handler) gin.HandlerFunc { return gin.WrapH(h) }

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
