package server

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json/jsontext"
)

var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// writeDecision answers one decision. It writes the bytes json.Marshal would, without
// reflection, since every decision request pays for it; a string that Marshal would
// refuse (invalid UTF-8) goes through writeJSON, which reports it as it always has.
func (s *Server) writeDecision(c *gin.Context, r *decisionResponse) {
	bp := encodeBuffers.Get().(*[]byte)
	defer encodeBuffers.Put(bp)
	b, err := appendDecision((*bp)[:0], r)
	if err != nil {
		s.writeJSON(c, http.StatusOK, r)
		return
	}
	b = append(b, '\n')
	*bp = b
	c.Writer.Header()["Content-Type"] = jsonContentType
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write(b)
}

// jsonContentType is the Content-Type header's value, set without canonicalising the
// name again for every response; no one modifies it.
var jsonContentType = []string{"application/json"}

// appendDecision appends r's JSON, as json.Marshal writes decisionResponse.
func appendDecision(b []byte, r *decisionResponse) ([]byte, error) {
	var err error
	quote := func(s string) {
		var e error
		if b, e = jsontext.AppendQuote(b, s); err == nil {
			err = e
		}
	}
	b = append(b, `{"decision_id":`...)
	quote(r.DecisionID)
	b = append(b, `,"allow":`...)
	b = strconv.AppendBool(b, r.Allow)
	b = append(b, `,"reasons":[`...)
	for i, reason := range r.Reasons {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"code":`...)
		quote(reason.Code)
		b = append(b, `,"message":`...)
		quote(reason.Message)
		b = append(b, '}')
	}
	b = append(b, `],"revision":{"policy":`...)
	quote(r.Revision.Policy)
	b = append(b, `,"membership":`...)
	quote(r.Revision.Membership)
	return append(b, "}}"...), err
}
