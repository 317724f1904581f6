package server_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/gateway"
)

// wireCase is a hostile request written byte for byte to a real listener.
type wireCase struct {
	name   string
	method string
	target string
	header []string
	// body is streamed after the head; chunked sends it with chunked encoding, else
	// length gives its Content-Length (0: none).
	body    func() io.Reader
	chunked bool
	length  int64
	status  int
	// code is the code in the error shape; empty when net/http itself answers, before
	// any handler, in plain text.
	code string
}

// TestHostileInputOnTheWire runs the http.Server of rolegate serve, with its header
// limit and timeouts, on a loopback port, and writes it what only a real listener
// sees: request lines and headers beyond the handler's limits and net/http's own,
// and bodies streamed faster than they are refused. Below net/http's limit (1 MiB
// of request line and headers) every refusal is in the error shape; beyond it
// net/http answers 431 itself, in plain text, before rolegate sees the request.
func TestHostileInputOnTheWire(t *testing.T) {
	f := newAdminFixture(t)
	addr := listen(t, f)
	permissions := "/v1/permissions?subject=u-dev&workspace=dw-shop&q="
	var slowest time.Duration
	for _, c := range wireCases(permissions) {
		t.Run(c.name, func(t *testing.T) {
			resp, body, took, err := roundTrip(addr, c)
			if err != nil {
				t.Fatal(err)
			}
			slowest = max(slowest, took)
			code, shapeErr := errorCode(body)
			switch {
			case resp.StatusCode != c.status:
				t.Errorf("%d %q, want %d", resp.StatusCode, body, c.status)
			case c.code != "" && (shapeErr != nil || code != c.code):
				t.Errorf("%d %q, want %s in the error shape (%v)", resp.StatusCode, body, c.code, shapeErr)
			case c.code == "" && shapeErr == nil:
				t.Errorf("%q is in the error shape: net/http's own limit no longer applies first", body)
			case took > maxRefusalTime:
				t.Errorf("answered in %v, over %v", took, maxRefusalTime)
			}
		})
	}
	checkLogClean(t, f)
	t.Logf("slowest refusal on the wire: %v", slowest)
}

func wireCases(permissions string) []wireCase {
	many := func(n, size int) []string {
		h := make([]string, 0, 2*n)
		for i := range n {
			h = append(h, fmt.Sprintf("X-Many-%d", i), strings.Repeat("m", size))
		}
		return h
	}
	q := func(n int) string { return permissions + strings.Repeat("q", n) }
	post := func(name string, header []string, body func() io.Reader, chunked bool, length int64, status int,
		code string,
	) wireCase {
		return wireCase{name, "POST", "/v1/decisions", header, body, chunked, length, status, code}
	}
	json := []string{"Content-Type", jsonType}
	return []wireCase{
		{
			name: "query of 8 KiB and 1 byte", method: "GET", target: q(8 << 10),
			status: 414, code: "query_too_large",
		},
		{name: "query of 512 KiB", method: "GET", target: q(512 << 10), status: 414, code: "query_too_large"},
		{name: "query of 2 MiB", method: "GET", target: q(2 << 20), status: 431},
		{
			name: "a header of 64 KiB", method: "GET", target: "/healthz",
			header: []string{"X-Big", strings.Repeat("h", 64<<10)}, status: 431, code: "headers_too_large",
		},
		{
			name: "900 headers of 1 KiB", method: "GET", target: "/v1/decisions",
			header: many(900, 1<<10), status: 431, code: "headers_too_large",
		},
		{name: "2,000 headers of 1 KiB", method: "GET", target: "/healthz", header: many(2000, 1<<10), status: 431},
		{
			name: "a header of 64 KiB to the gateway", method: "GET", target: gateway.ForwardAuthPath,
			header: append([]string{"X-Big", strings.Repeat("h", 64<<10)}, nginxHeaders...),
			status: 403, code: "headers_too_large",
		},
		post("10 MiB declared", json, padded(10<<20), false, 10<<20, 413, "body_too_large"),
		post("10 MiB chunked", json, padded(10<<20), true, 0, 413, "body_too_large"),
		post("1 MiB and 1 byte declared", json, padded(bodyLimit+1), false, bodyLimit+1, 413, "body_too_large"),
		post("gzip bomb", append([]string{"Content-Encoding", "gzip"}, json...), bomb, false,
			int64(len(gzipBomb())), 415, "unsupported_encoding"),
	}
}

// listen serves f on a loopback port with the http.Server rolegate serve runs, until
// the test ends, and returns its address.
func listen(t *testing.T, f *adminFixture) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := f.srv.HTTPServer()
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	t.Cleanup(func() {
		_ = hs.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// roundTrip writes c on a new connection, streaming its body while it reads the
// answer, as a client that does not wait to be refused; it returns the answer and
// how long it took to come.
func roundTrip(addr string, c wireCase) (*http.Response, []byte, time.Duration, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))

	start := time.Now()
	go func() { _ = writeRequest(conn, c) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("read the answer: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("read the answer's body: %w", err)
	}
	return resp, body, took, nil
}

// writeRequest writes the request head and body; it stops at the first write error,
// as a server that refused the request may close the connection.
func writeRequest(w io.Writer, c wireCase) error {
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: rolegate.test\r\n", c.method, c.target)
	for i := 0; i+1 < len(c.header); i += 2 {
		fmt.Fprintf(&head, "%s: %s\r\n", c.header[i], c.header[i+1])
	}
	switch {
	case c.chunked:
		head.WriteString("Transfer-Encoding: chunked\r\n")
	case c.length > 0:
		fmt.Fprintf(&head, "Content-Length: %d\r\n", c.length)
	}
	head.WriteString("\r\n")
	if _, err := io.WriteString(w, head.String()); err != nil || c.body == nil {
		return err
	}
	if !c.chunked {
		_, err := io.Copy(w, c.body())
		return err
	}
	cw := httputil.NewChunkedWriter(w)
	if _, err := io.Copy(cw, c.body()); err != nil {
		return err
	}
	if err := cw.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\r\n")
	return err
}
