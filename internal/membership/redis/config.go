package redis

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Defaults of Config's fields.
const (
	DefaultNamespace       = "rolegate"
	DefaultDialTimeout     = time.Second
	DefaultReadTimeout     = time.Second
	DefaultWriteTimeout    = time.Second
	DefaultLookupTimeout   = 250 * time.Millisecond
	DefaultMaxStaleness    = 30 * time.Second
	DefaultMaxCacheEntries = 2_000_000
	DefaultPingInterval    = time.Second
	DefaultSyncWait        = 100 * time.Millisecond
)

// maxMaxStaleness bounds MaxStaleness: cache entries carry their age in
// milliseconds in 32 bits.
const maxMaxStaleness = 24 * time.Hour

// Environment variables FromEnv reads.
const (
	EnvURL      = "ROLEGATE_REDIS_URL"
	EnvPassword = "ROLEGATE_REDIS_PASSWORD"
)

// Config selects a Redis deployment and tunes the store's client and near cache.
// Start from DefaultConfig; a zero duration or count means its default.
type Config struct {
	// URL addresses a single server: redis://[user:password@]host:port/db,
	// rediss:// for TLS, or unix:///path/to/socket?db=N. Set URL or Addrs, not both.
	URL string `yaml:"url"`
	// Addrs are host:port addresses: of Sentinels when MasterName is set, otherwise
	// seed nodes of a Redis Cluster.
	Addrs []string `yaml:"addrs"`
	// MasterName is the name of the master that the Sentinels in Addrs watch.
	MasterName string `yaml:"master_name"`
	// Username is the ACL user; empty: the one in URL, or the default user.
	Username string `yaml:"username"`
	// Password authenticates Username; empty: the one in URL (FromEnv fills it
	// from ROLEGATE_REDIS_PASSWORD), so that no password needs to sit in a file.
	Password string `yaml:"password"`
	// DB is the database number with Sentinel. A URL names its own database;
	// a Cluster has only database 0.
	DB int `yaml:"db"`
	// TLS turns on TLS, verified against the system's roots; a rediss:// URL
	// turns it on too.
	TLS bool `yaml:"tls"`
	// Namespace is the hash tag in every key, {Namespace}:..., so that several
	// deployments can share one Redis. Letters, digits, '_' and '-'.
	Namespace string `yaml:"namespace"`

	// DialTimeout bounds connecting to a server.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// ReadTimeout bounds waiting for a reply on a connection.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds sending a command on a connection.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// LookupTimeout bounds how long a decision waits for the facts it reads from Redis
	// (those not in the cache): past it, membership.ErrUnavailable. The read itself
	// may go on, up to DialTimeout plus ReadTimeout, so that a slow Redis still fills
	// the cache and the connection pool for the lookups after it.
	LookupTimeout time.Duration `yaml:"lookup_timeout"`

	// CacheEnabled keeps a near cache of facts in process memory, kept fresh by
	// invalidations on pub/sub. Off, every read goes to Redis.
	CacheEnabled bool `yaml:"cache_enabled"`
	// MaxStaleness is the age past which a cached fact is never used, whatever
	// the invalidations say.
	MaxStaleness time.Duration `yaml:"max_staleness"`
	// MaxCacheEntries bounds the number of cached users and workspaces.
	MaxCacheEntries int `yaml:"max_cache_entries"`
	// PingInterval is how often a quiet subscription is checked with a PING; a
	// subscription that does not answer the next one is taken as lost.
	PingInterval time.Duration `yaml:"ping_interval"`
	// SyncWait bounds how long Sync waits for invalidations to catch up before it
	// reads the revision from Redis.
	SyncWait time.Duration `yaml:"sync_wait"`
}

// DefaultConfig returns the defaults, with the near cache on and no address.
func DefaultConfig() Config {
	return Config{
		Namespace:       DefaultNamespace,
		DialTimeout:     DefaultDialTimeout,
		ReadTimeout:     DefaultReadTimeout,
		WriteTimeout:    DefaultWriteTimeout,
		LookupTimeout:   DefaultLookupTimeout,
		CacheEnabled:    true,
		MaxStaleness:    DefaultMaxStaleness,
		MaxCacheEntries: DefaultMaxCacheEntries,
		PingInterval:    DefaultPingInterval,
		SyncWait:        DefaultSyncWait,
	}
}

// FromEnv fills URL and Password from ROLEGATE_REDIS_URL and ROLEGATE_REDIS_PASSWORD
// where they are empty; getenv is os.Getenv or a stand-in.
func (c *Config) FromEnv(getenv func(string) string) {
	if c.URL == "" && len(c.Addrs) == 0 {
		c.URL = getenv(EnvURL)
	}
	if c.Password == "" {
		c.Password = getenv(EnvPassword)
	}
}

// withDefaults returns c with each zero duration or count set to its default.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	set := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.DialTimeout, d.DialTimeout)
	set(&c.ReadTimeout, d.ReadTimeout)
	set(&c.WriteTimeout, d.WriteTimeout)
	set(&c.LookupTimeout, d.LookupTimeout)
	set(&c.MaxStaleness, d.MaxStaleness)
	set(&c.PingInterval, d.PingInterval)
	set(&c.SyncWait, d.SyncWait)
	if c.MaxCacheEntries == 0 {
		c.MaxCacheEntries = d.MaxCacheEntries
	}
	if c.Namespace == "" {
		c.Namespace = d.Namespace
	}
	return c
}

var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var problems []error
	add := func(field, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	c.validateTarget(add)
	if c.Namespace != "" && !namespacePattern.MatchString(c.Namespace) {
		add("namespace", "%q has characters other than letters, digits, '_' and '-'", c.Namespace)
	}
	c.validateDurations(add)
	if c.MaxCacheEntries < 0 {
		add("max_cache_entries", "%d is negative", c.MaxCacheEntries)
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid redis configuration: %w", errors.Join(problems...))
	}
	return nil
}

func (c Config) validateDurations(add func(field, format string, args ...any)) {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"dial_timeout", c.DialTimeout},
		{"read_timeout", c.ReadTimeout},
		{"write_timeout", c.WriteTimeout},
		{"lookup_timeout", c.LookupTimeout},
		{"max_staleness", c.MaxStaleness},
		{"ping_interval", c.PingInterval},
		{"sync_wait", c.SyncWait},
	} {
		if d.v < 0 {
			add(d.name, "%v is negative", d.v)
		}
	}
	if c.MaxStaleness > maxMaxStaleness {
		add("max_staleness", "%v is more than %v", c.MaxStaleness, maxMaxStaleness)
	}
}

func (c Config) validateTarget(add func(field, format string, args ...any)) {
	switch {
	case c.URL == "" && len(c.Addrs) == 0:
		add("url", "set url (a single server) or addrs (Sentinel or Cluster)")
	case c.URL != "" && len(c.Addrs) > 0:
		add("url", "set url or addrs, not both")
	case c.URL != "":
		o, err := parseURL(c.URL)
		if err != nil {
			add("url", "%v", err)
		} else if o.Network == "unix" && c.TLS {
			add("tls", "not with a unix socket")
		}
		if c.MasterName != "" {
			add("master_name", "only with addrs of Sentinels")
		}
	}
	for i, a := range c.Addrs {
		if a == "" {
			add(fmt.Sprintf("addrs[%d]", i), "empty")
		}
	}
	if c.DB < 0 || (c.DB != 0 && c.MasterName == "") {
		add("db", "%d: only with Sentinel, as 0 or more; a URL names its own database", c.DB)
	}
}

// fetchTimeout bounds a read of facts from Redis, which the lookups waiting for it may
// give up on sooner: time to open a connection and read its handshake and the reply.
func (c Config) fetchTimeout() time.Duration {
	return max(c.LookupTimeout, c.DialTimeout+c.ReadTimeout)
}

// client returns the go-redis client the configuration describes: a single-server
// client for URL, a Sentinel-backed failover client for MasterName, otherwise a
// Cluster client. c has its defaults.
func (c Config) client() (goredis.UniversalClient, error) {
	if c.URL != "" {
		o, err := parseURL(c.URL)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		c.applyTo(o)
		return goredis.NewClient(o), nil
	}
	u := &goredis.UniversalOptions{
		Addrs: c.Addrs, MasterName: c.MasterName, DB: c.DB, IsClusterMode: c.MasterName == "",
		Username: c.Username, Password: c.Password,
		DialTimeout: c.DialTimeout, ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout,
		ContextTimeoutEnabled: true, ClientName: "rolegate", DialerRetries: 1, MaxRetries: -1,
	}
	if c.TLS {
		u.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return goredis.NewUniversalClient(u), nil
}

// parseURL parses a Redis URL. Its errors never repeat the URL, which may hold a
// password: net/url's quote it whole.
func parseURL(raw string) (*goredis.Options, error) {
	o, err := goredis.ParseURL(raw)
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return nil, ue.Err
	}
	return o, err
}

// applyTo sets the options a URL does not carry, and overrides its credentials
// when the configuration has them.
func (c Config) applyTo(o *goredis.Options) {
	if c.Username != "" {
		o.Username = c.Username
	}
	if c.Password != "" {
		o.Password = c.Password
	}
	if c.TLS && o.TLSConfig == nil {
		host := o.Addr
		if h, _, err := net.SplitHostPort(o.Addr); err == nil {
			host = h
		}
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = c.DialTimeout, c.ReadTimeout, c.WriteTimeout
	o.ContextTimeoutEnabled = true
	o.ClientName = "rolegate"
	o.DialerRetries = 1
	// No retries: a lookup fails fast and the decision is denied, and a write whose
	// reply was lost is never sent twice.
	o.MaxRetries = -1
}
