package redis_test

import (
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/membership/redis"
)

func TestConfigValidate(t *testing.T) {
	valid := func(mod func(c *redis.Config)) redis.Config {
		c := redis.DefaultConfig()
		mod(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  redis.Config
		want []string // substrings of the error, one per problem; none: valid
	}{
		{"single url", valid(func(c *redis.Config) { c.URL = "redis://localhost:6380/2" }), nil},
		{"tls url", valid(func(c *redis.Config) { c.URL = "rediss://user:pw@redis.example:6380/0" }), nil},
		{"unix socket", valid(func(c *redis.Config) { c.URL = "unix:///run/redis.sock?db=1" }), nil},
		{"sentinel", valid(func(c *redis.Config) {
			c.Addrs, c.MasterName, c.DB = []string{"s1:26379", "s2:26379"}, "mymaster", 3
		}), nil},
		{"cluster", valid(func(c *redis.Config) { c.Addrs = []string{"n1:6379", "n2:6379"} }), nil},
		{"nothing to connect to", valid(func(*redis.Config) {}), []string{"url: set url"}},
		{"every problem at once", valid(func(c *redis.Config) {
			c.URL, c.Addrs = "http://x", []string{""}
			c.Namespace, c.LookupTimeout, c.MaxCacheEntries, c.DB = "a}b", -1, -1, 2
		}), []string{
			"url: set url or addrs, not both", "addrs[0]: empty", "db: 2", `namespace: "a}b"`,
			"lookup_timeout: -1ns is negative", "max_cache_entries: -1 is negative",
		}},
		{"bad url", valid(func(c *redis.Config) { c.URL = "http://x" }), []string{"url: redis: invalid URL scheme"}},
		{"tls over a socket", valid(func(c *redis.Config) { c.URL, c.TLS = "unix:///s", true }), []string{"tls:"}},
		{
			"master name with a url", valid(func(c *redis.Config) { c.URL, c.MasterName = "redis://x", "m" }),
			[]string{"master_name:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not report %q", err, w)
				}
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{redis.EnvURL: "redis://r:6379/0", redis.EnvPassword: "secret"}
	var c redis.Config
	c.FromEnv(func(k string) string { return env[k] })
	if c.URL != "redis://r:6379/0" || c.Password != "secret" {
		t.Fatalf("config = %+v", c)
	}
	c = redis.Config{URL: "redis://mine", Password: "mine"}
	c.FromEnv(func(k string) string { return env[k] })
	if c.URL != "redis://mine" || c.Password != "mine" {
		t.Fatalf("FromEnv overrode set fields: %+v", c)
	}
}

// TestConfigErrorsNeverCarryThePassword: a URL that does not parse is reported
// without its text, which holds the password; the error goes to the service's log.
func TestConfigErrorsNeverCarryThePassword(t *testing.T) {
	const password = "pw-7c1e5a9d3b"
	for _, url := range []string{
		"redis://user:" + password + "@host:port/0",
		"redis://user:" + password + "@[::1:6379/0",
		"redis://:" + password + "@host:6379/x",
		"redis://user:" + password + "@host:6379/0?foo=bar",
		"redis://user:" + password + " x@host:6379/0",
		"redis://user:" + password + "@host:6379/0\x7f",
	} {
		c := redis.DefaultConfig()
		c.URL = url
		err := c.Validate()
		if err == nil {
			t.Errorf("%q: no error", url)
			continue
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("the error holds the password: %v", err)
		}
		if _, err := redis.Open(c, nil); err == nil || strings.Contains(err.Error(), password) {
			t.Errorf("Open(%q) = %v, want an error without the password", url, err)
		}
	}
}
