package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDebugHandlerServesProfiles(t *testing.T) {
	h := debugHandler()
	for _, tc := range []struct {
		name, path, want string
	}{
		{"index", "/debug/pprof/", "heap"},
		{"heap after a collection", "/debug/pprof/heap?gc=1&debug=1", "heap profile"},
		{"goroutines", "/debug/pprof/goroutine?debug=1", "goroutine profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("GET %s: %d, want 200 with %q:\n%.300s", tc.path, rec.Code, tc.want, rec.Body)
			}
		})
	}
}
