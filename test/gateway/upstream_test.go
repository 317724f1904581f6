package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// upstream is the back end behind nginx: it records every request that reaches it
// and answers 200 with the body it received.
type upstream struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []arrival
}

// arrival is what the upstream saw of one request.
type arrival struct {
	Method string
	// URI is the request target as it arrived, still encoded, query included.
	URI string
	// Subjects are the values of X-Rolegate-Subject.
	Subjects  []string
	BodyBytes int
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a := arrival{
		Method: r.Method, URI: r.RequestURI,
		Subjects: r.Header.Values("X-Rolegate-Subject"), BodyBytes: len(body),
	}
	u.mu.Lock()
	u.seen = append(u.seen, a)
	u.mu.Unlock()

	w.Header().Set("X-Upstream", "reached")
	w.Header().Set("X-Upstream-Subject", strings.Join(a.Subjects, ","))
	if len(body) == 0 {
		fmt.Fprintf(w, "upstream: %s %s as %s\n", a.Method, a.URI, strings.Join(a.Subjects, ","))
		return
	}
	_, _ = w.Write(body)
}

// addr is the upstream's host:port.
func (u *upstream) addr() string { return u.srv.Listener.Addr().String() }

// take returns the requests seen since the last call and forgets them.
func (u *upstream) take() []arrival {
	u.mu.Lock()
	defer u.mu.Unlock()
	seen := u.seen
	u.seen = nil
	return seen
}
