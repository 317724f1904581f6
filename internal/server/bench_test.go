package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkDecisionHTTP measures one decision through the HTTP handler: body decoding,
// fact lookup in the embedded store, evaluation and the JSON response.
func BenchmarkDecisionHTTP(b *testing.B) {
	h := newServer(b, exampleWorld(b))
	body := strings.NewReader(allowReq)
	req := httptest.NewRequest(http.MethodPost, "/v1/decisions", body)
	req.Header.Set("Content-Type", jsonType)
	rec := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(allowReq)
		rec.Body.Reset()
		h.ServeHTTP(rec, req)
	}
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"allow":true`) {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}
