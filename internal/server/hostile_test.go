package server_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/rolegate/rolegate/internal/config"
)

// Bounds every hostile request is held to: the answer's time, generous for a loaded
// machine under -race, and what refusing a streamed body over the limit may allocate
// (reading up to the limit into a doubling buffer costs about three times the limit).
const (
	maxRefusalTime   = 500 * time.Millisecond
	maxStreamedAlloc = 4 * bodyLimit
)

const bodyLimit = config.DefaultMaxBodyBytes

// hostileCase is one hostile request and the refusal it must get.
type hostileCase struct {
	name       string
	method     string
	target     string
	header     []string
	body       func() io.Reader // nil: no body
	wantStatus int
	wantCode   string
	// maxRead bounds the body bytes the server may read; -1 leaves it unchecked.
	maxRead int64
}

// TestHostileInput sends every route of the router, as routeSpecs describes it, the
// hostile requests for what it reads: oversized, deeply nested, ambiguous, malformed,
// compressed and mistyped bodies; ambiguous and malformed queries; oversized queries
// and headers on every route. Each must be refused with its status and code in the
// error shape, quickly, without a panic or an error in the log, without reading
// more of a body than the limit, and without holding a 10 MiB body in memory.
func TestHostileInput(t *testing.T) {
	f := newAdminFixture(t)
	var slowest time.Duration
	var slowestCase string
	n := 0
	for _, r := range routesOf(t, f.srv) {
		for _, c := range hostileCases(t, f, r) {
			n++
			t.Run(r.Method+" "+r.Path+"/"+c.name, func(t *testing.T) {
				if took := f.refuse(t, c); took > slowest {
					slowest, slowestCase = took, r.Method+" "+c.target+" "+c.name
				}
			})
		}
	}
	checkLogClean(t, f)
	t.Logf("%d hostile requests over %d routes refused; slowest %v (%s)",
		n, len(f.srv.Routes()), slowest, slowestCase)
}

// refuse sends c and checks the refusal; it returns how long the answer took.
func (f *adminFixture) refuse(t *testing.T, c hostileCase) time.Duration {
	t.Helper()
	body := &countingReader{r: strings.NewReader("")}
	if c.body != nil {
		body.r = c.body()
	}
	req := httptest.NewRequest(c.method, c.target, body)
	for i := 0; i+1 < len(c.header); i += 2 {
		req.Header.Set(c.header[i], c.header[i+1])
	}
	start := time.Now()
	rec := serve(f.srv.Handler(), req)
	took := time.Since(start)

	code, err := errorCode(rec.Body.Bytes())
	switch {
	case rec.Code != c.wantStatus || err != nil || code != c.wantCode:
		t.Errorf("%d %s, want %d %s (%v)", rec.Code, rec.Body, c.wantStatus, c.wantCode, err)
	case !strings.HasPrefix(rec.Header().Get("Content-Type"), jsonType):
		t.Errorf("content type %q, want JSON", rec.Header().Get("Content-Type"))
	case took > maxRefusalTime:
		t.Errorf("answered in %v, over %v", took, maxRefusalTime)
	case c.maxRead >= 0 && body.n.Load() > c.maxRead:
		t.Errorf("the server read %d bytes of the body, more than %d", body.n.Load(), c.maxRead)
	}
	return took
}

// hostileCases returns the hostile requests for the route: those for what it reads,
// and the oversized query and headers every route must refuse.
func hostileCases(t testing.TB, f *adminFixture, r route) []hostileCase {
	t.Helper()
	var cases []hostileCase
	switch r.spec.input {
	case bodyInput:
		cases = bodyCases(t, r.spec.body)
	case queryInput:
		cases = queryCases(r.spec.target)
	case gatewayInput:
		if r.Method == http.MethodPost {
			cases = gatewayCases()
		}
	}
	cases = append(cases, limitCases()...)
	base := f.request(t, r, "")
	for i := range cases {
		c := &cases[i]
		c.method = r.Method
		if c.target == "" {
			c.target = r.spec.target
		} else if strings.HasPrefix(c.target, "?") {
			c.target = strings.SplitN(r.spec.target, "?", 2)[0] + c.target
		}
		header := headerList(base.Header)
		if c.body != nil {
			header = append(header, "Content-Type", jsonType)
		}
		c.header = append(header, c.header...)
		if r.spec.input == gatewayInput {
			// The gateway answers as gateways expect: 401 without an identity, and any
			// other refusal as a 403 denial.
			c.wantStatus = gatewayStatus(c.wantStatus)
		}
	}
	return cases
}

func gatewayStatus(status int) int {
	if status == http.StatusUnauthorized {
		return status
	}
	return http.StatusForbidden
}

// bodyCases are the hostile bodies of a route whose valid body is sample.
func bodyCases(t testing.TB, sample string) []hostileCase {
	t.Helper()
	name, value, after := firstMember(t, sample)
	member, rest := name+":"+value, sample[1:]
	deep := `{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "}"
	cases := []hostileCase{
		{name: "1 MiB and 1 byte", body: padded(bodyLimit + 1), wantStatus: 413, wantCode: "body_too_large"},
		{name: "10 MiB", body: padded(10 << 20), wantStatus: 413, wantCode: "body_too_large"},
		{name: "10,000 levels", body: text(deep), wantStatus: 400, wantCode: "too_deep"},
		{name: "duplicate key", body: text("{" + member + "," + rest), wantStatus: 400, wantCode: "duplicate_key"},
		{
			name: "key differing in case", body: text("{" + strings.ToUpper(name) + ":" + value + "," + rest),
			wantStatus: 400, wantCode: "unknown_field",
		},
		{name: "trailing garbage", body: text(sample + "x"), wantStatus: 400, wantCode: "invalid_json"},
		{name: "two objects", body: text(sample + sample), wantStatus: 400, wantCode: "invalid_json"},
		{
			name: "invalid utf-8 in a key", body: text("{\"k\xff\":1," + rest),
			wantStatus: 400, wantCode: "invalid_json",
		},
		{
			name: "invalid utf-8 in a value", body: text("{" + name + ":\"\xc0\"" + after),
			wantStatus: 400, wantCode: "invalid_json",
		},
		{
			name: "lone surrogate", body: text("{" + name + `:"\ud800"` + after),
			wantStatus: 400, wantCode: "invalid_json",
		},
		{name: "empty", body: text(""), wantStatus: 400, wantCode: "invalid_json"},
		{name: "an array", body: text("[" + sample + "]"), wantStatus: 400, wantCode: "invalid_field"},
		{
			name: "gzip bomb", header: []string{"Content-Encoding", "gzip"}, body: bomb,
			wantStatus: 415, wantCode: "unsupported_encoding",
		},
		{
			name: "deflate", header: []string{"Content-Encoding", "deflate"}, body: text(sample),
			wantStatus: 415, wantCode: "unsupported_encoding",
		},
	}
	for i := range cases {
		cases[i].maxRead = bodyLimit + 1
		if cases[i].wantStatus == 415 {
			cases[i].maxRead = 0
		}
	}
	for _, ct := range []string{
		"", "text/plain", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/xml", "application/jsonx", "json",
	} {
		cases = append(cases, hostileCase{
			name: fmt.Sprintf("content type %q", ct), header: []string{"Content-Type", ct}, body: text(sample),
			wantStatus: 415, wantCode: "unsupported_media_type",
		})
	}
	return cases
}

// queryCases are the hostile queries of a route whose valid target is target.
func queryCases(target string) []hostileCase {
	_, query, _ := strings.Cut(target, "?")
	first, _, _ := strings.Cut(query, "&")
	many := make([]string, 1000)
	for i := range many {
		many[i] = fmt.Sprintf("p%d=", i)
	}
	unknown, invalid := "unknown_parameter", "invalid_parameter"
	with := func(suffix string) string { return "?" + strings.Replace(query, first, first+suffix, 1) }
	cases := []hostileCase{
		{name: "parameter twice", target: "?" + query + "&" + first, wantCode: invalid},
		{name: "parameter differing in case", target: "?" + query + "&" + strings.ToUpper(first), wantCode: unknown},
		{name: "unknown parameter", target: "?" + query + "&facts=1", wantCode: unknown},
		{name: "a thousand unknown parameters", target: "?" + query + "&" + strings.Join(many, "&"), wantCode: unknown},
		{name: "name not utf-8", target: "?" + query + "&%FF=1", wantCode: unknown},
		{name: "invalid utf-8 value", target: with("%C0"), wantCode: invalid},
		{name: "raw invalid utf-8", target: with("\xff"), wantCode: invalid},
		{name: "malformed escape", target: "?" + query + "&" + first + "%ZZ", wantCode: invalid},
		{name: "trailing garbage", target: "?" + query + "&%", wantCode: invalid},
		{name: "semicolons", target: "?" + strings.ReplaceAll(query, "&", ";"), wantCode: invalid},
		{name: "value too long", target: with(strings.Repeat("x", 300)), wantCode: invalid},
	}
	for i := range cases {
		cases[i].wantStatus, cases[i].maxRead = 400, 0
	}
	return cases
}

// gatewayCases are hostile bodies on a gateway route, which never reads a body: they
// change nothing, and without an identity the answer is 401.
func gatewayCases() []hostileCase {
	cases := []hostileCase{
		{name: "10 MiB", body: padded(10 << 20)},
		{name: "gzip bomb", header: []string{"Content-Encoding", "gzip"}, body: bomb},
		{name: "content type", header: []string{"Content-Type", "text/plain"}, body: text("x")},
	}
	for i := range cases {
		cases[i].wantStatus, cases[i].wantCode, cases[i].maxRead = 401, "unauthenticated", 0
	}
	return cases
}

// limitCases are the oversized queries and headers every route refuses before routing.
func limitCases() []hostileCase {
	many := make([]string, 0, 2*2000)
	for i := range 2000 {
		many = append(many, fmt.Sprintf("X-Many-%d", i), strings.Repeat("m", 32))
	}
	cases := []hostileCase{
		{name: "query of 8 KiB and 1 byte", target: "?q=" + strings.Repeat("q", 8<<10-1), wantStatus: 414},
		{name: "query of 1 MiB", target: "?q=" + strings.Repeat("q", 1<<20), wantStatus: 414},
		{
			name: "a header of 64 KiB", header: []string{"X-Big", strings.Repeat("h", 64<<10)},
			wantStatus: 431, wantCode: "headers_too_large",
		},
		{name: "2,000 headers", header: many, wantStatus: 431, wantCode: "headers_too_large"},
	}
	for i := range cases {
		if cases[i].wantStatus == 414 {
			cases[i].wantCode = "query_too_large"
		}
	}
	return cases
}

// TestRefusedBodiesAreNotBuffered measures what refusing a 10 MiB body costs each
// body route. Declared by Content-Length, it is refused before a byte is read;
// streamed without a length, it is read no further than the limit, and what that
// allocates stays far below the body.
func TestRefusedBodiesAreNotBuffered(t *testing.T) {
	f := newAdminFixture(t)
	const size = 10 << 20
	tests := []struct {
		name     string
		length   int64
		maxRead  int64
		maxAlloc uint64
	}{
		{"declared", size, 0, 64 << 10},
		{"streamed", -1, bodyLimit + 1, maxStreamedAlloc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var most uint64
			for _, r := range routesOf(t, f.srv) {
				if r.spec.input != bodyInput {
					continue
				}
				allocated, read, status := f.sendLarge(t, r, size, tt.length)
				most = max(most, allocated)
				if status != http.StatusRequestEntityTooLarge || allocated > tt.maxAlloc || read > tt.maxRead {
					t.Errorf("%s %s: %d, %d bytes allocated (at most %d), %d bytes read (at most %d)",
						r.Method, r.Path, status, allocated, tt.maxAlloc, read, tt.maxRead)
				}
			}
			t.Logf("refusing a %s 10 MiB body allocates at most %.3f MiB", tt.name, float64(most)/(1<<20))
		})
	}
}

// sendLarge sends the route a body of size bytes with the Content-Length given (-1:
// none) and returns the bytes allocated meanwhile, the bytes read and the status.
func (f *adminFixture) sendLarge(t *testing.T, r route, size, length int64) (allocated uint64, read int64, status int) {
	t.Helper()
	body := &countingReader{r: padded(size)()}
	req := f.request(t, r, "{}")
	req.Body, req.ContentLength = body, length
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rec := serve(f.srv.Handler(), req)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, body.n.Load(), rec.Code
}

// checkLogClean fails the test when the service log holds a recovered panic or an
// error: hostile input must be refused, never crash a handler or fail it.
func checkLogClean(t *testing.T, f *adminFixture) {
	t.Helper()
	for _, line := range strings.Split(f.logs.String(), "\n") {
		if strings.Contains(line, "handler panic") || strings.Contains(line, "level=ERROR") {
			t.Errorf("service log: %s", line)
		}
	}
}

// headerList flattens h into name, value pairs.
func headerList(h http.Header) []string {
	var out []string
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, k, v)
		}
	}
	return out
}

// firstMember splits a JSON object as written into its first member's name and
// value and what follows the member (a comma and the other members, or the brace).
func firstMember(t testing.TB, object string) (name, value, after string) {
	t.Helper()
	dec := jsontext.NewDecoder(strings.NewReader(object))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		t.Fatalf("sample %s is not an object", object)
	}
	raw, err := dec.ReadValue()
	if err != nil {
		t.Fatal(err)
	}
	name = string(raw)
	if raw, err = dec.ReadValue(); err != nil {
		t.Fatal(err)
	}
	value = string(raw)
	return name, value, object[dec.InputOffset():]
}

func text(s string) func() io.Reader { return func() io.Reader { return strings.NewReader(s) } }

// padded returns a JSON-looking body of exactly size bytes, made as it is read.
func padded(size int64) func() io.Reader {
	return func() io.Reader {
		const head, tail = `{"subject":"`, `"}`
		return io.MultiReader(strings.NewReader(head),
			io.LimitReader(repeat('x'), size-int64(len(head)+len(tail))), strings.NewReader(tail))
	}
}

// repeat is an endless stream of one byte.
type repeat byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// bomb returns a gzip stream of 16 KiB that inflates to 1 GiB of zeros: 1,024
// members of one MiB each.
func bomb() io.Reader { return bytes.NewReader(gzipBomb()) }

var gzipBomb = sync.OnceValue(func() []byte {
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	_, _ = zw.Write(make([]byte, 1<<20))
	_ = zw.Close()
	return bytes.Repeat(member.Bytes(), 1024)
})

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return nil }

// maxWideAlloc bounds what refusing, or answering, a body of 1 MiB of attributes or
// properties may allocate: such a body is read into its buffer and never decoded
// member by member, which cost 11 to 20 MiB.
const maxWideAlloc = 4 * bodyLimit

// TestWideBodiesAreNotDecoded sends the fields that hold free-form JSON (a request's
// attributes, AuthZEN's properties and context) a body of 1 MiB of members, flat and
// nested. What rolegate uses is refused at the first member too many or of the wrong
// kind; what it ignores is read without being decoded and refused past 1,000 tokens.
// Decoding 1 MiB of members cost 50 ms and 20 MiB for a single request.
func TestWideBodiesAreNotDecoded(t *testing.T) {
	f := newAdminFixture(t)
	flat, nested := wideObject(false), wideObject(true)
	decision := func(attrs string) string {
		return `{"subject":"u-dev","action":"a:b","resource":{"workspace":"dw-shop","attributes":` + attrs + `}}`
	}
	authzen := func(subject, resource, context string) string {
		return `{"subject":{"type":"user","id":"u-dev"` + subject + `},"action":{"name":"workspace:view"},` +
			`"resource":{"type":"workspace","id":"dw-shop"` + resource + `}` + context + `}`
	}
	tests := []struct {
		name, target, body string
		status             int
	}{
		{"attributes", "/v1/decisions", decision(flat), 400},
		{"nested attributes", "/v1/decisions", decision(nested), 400},
		{"attributes in a batch", "/v1/decisions/batch", `{"requests":[` + decision(flat) + `]}`, 400},
		{"attributes in the data API", "/v1/data/rolegate/authz/allow", `{"input":` + decision(flat) + `}`, 400},
		{"resource properties", "/access/v1/evaluation", authzen("", `,"properties":`+flat, ""), 400},
		{"nested resource properties", "/access/v1/evaluation", authzen("", `,"properties":`+nested, ""), 400},
		{"subject properties", "/access/v1/evaluation", authzen(`,"properties":`+nested, "", ""), 400},
		{"context", "/access/v1/evaluation", authzen("", "", `,"context":`+nested), 400},
		{"context of evaluations", "/access/v1/evaluations", authzen("", "", `,"context":`+flat), 400},
		{
			"a context of 1,000 tokens", "/access/v1/evaluation",
			authzen("", "", `,"context":{"a":[`+strings.Repeat("1,", 994)+`1]}`), 200,
		},
		{
			"a context of 1,001 tokens", "/access/v1/evaluation",
			authzen("", "", `,"context":{"a":[`+strings.Repeat("1,", 995)+`1]}`), 400,
		},
	}
	var most uint64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rec := call(f.srv.Handler(), "POST", tt.target, jsonType, tt.body)
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			most = max(most, allocated)
			if rec.Code != tt.status || allocated > maxWideAlloc {
				t.Errorf("%d bytes: %d, %d bytes allocated (at most %d): %.200s", len(tt.body), rec.Code,
					allocated, maxWideAlloc, rec.Body)
			}
		})
	}
	t.Logf("a body of 1 MiB of members allocates at most %.2f MiB", float64(most)/(1<<20))
}

// wideObject returns a JSON object of just under 900 KiB of members: numbers, or
// arrays of numbers.
func wideObject(nested bool) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; b.Len() < 900<<10; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		if nested {
			fmt.Fprintf(&b, `"n%d":[1,2,3,4,5,6,7,8,9,10,[11,12,13,14,15,16]]`, i)
		} else {
			fmt.Fprintf(&b, `"a%d":%d`, i, i)
		}
	}
	b.WriteString("}")
	return b.String()
}
