package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// response is the outcome of one request to the bundle URL.
type response struct {
	body        []byte
	etag        string
	notModified bool
}

// download asks the bundle URL for the bundle, unless it still has etag. Errors name
// the URL without its user information and query, and never hold the token.
func (m *Manager) download(ctx context.Context, etag string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.cfg.URL, nil)
	if err != nil {
		return response{}, fmt.Errorf("get %s: %w", m.origin.Location, err)
	}
	req.Header.Set("User-Agent", "rolegate")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	token, err := m.token()
	if err != nil {
		return response{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return response{}, fmt.Errorf("get %s: %w", m.origin.Location, err)
	}
	defer resp.Body.Close()
	return m.readResponse(resp, etag)
}

func (m *Manager) readResponse(resp *http.Response, etag string) (response, error) {
	limit := m.cfg.MaxBundleBytes
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return response{etag: etag, notModified: true}, nil
	case resp.StatusCode != http.StatusOK:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return response{}, fmt.Errorf("get %s: server replied %s", m.origin.Location, resp.Status)
	case resp.ContentLength > limit:
		return response{}, fmt.Errorf("get %s: bundle of %d bytes is over the limit of %d",
			m.origin.Location, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return response{}, fmt.Errorf("get %s: read body: %w", m.origin.Location, err)
	}
	if int64(len(body)) > limit {
		return response{}, fmt.Errorf("get %s: bundle is over the limit of %d bytes", m.origin.Location, limit)
	}
	return response{body: body, etag: resp.Header.Get("ETag")}, nil
}

// token returns the bearer token for the bundle URL, or "" when none is configured.
func (m *Manager) token() (string, error) {
	if m.cfg.TokenFile == "" {
		return m.envToken, nil
	}
	t, err := readToken(m.cfg.TokenFile)
	if err != nil {
		return "", fmt.Errorf("bearer token: %w", err)
	}
	return t, nil
}

// readToken reads a token file; surrounding white space is not part of the token.
func readToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(data))
	if t == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return t, nil
}

// redactURL returns raw without user information, query and fragment, which may
// hold credentials, for logs and status.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid url)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// sendsTokenInClear reports whether a token would cross the network unencrypted.
func sendsTokenInClear(c *Config) bool {
	u, err := url.Parse(c.URL)
	if err != nil || u.Scheme != "http" || (c.TokenFile == "" && c.TokenEnv == "") {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback())
}
