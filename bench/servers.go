package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Kinds of server under test.
const (
	kindRolegate = "rolegate"
	kindOPA      = "opa"
	kindCeiling  = "ceiling"
)

// Keys of the configurations.
const (
	keyWarm     = "redis-warm"
	keyCold     = "redis-nocache"
	keyEmbedded = "embedded"
	keyOPA      = "opa"
	keyCeiling  = "gin"
)

// server is one configuration under test, with its samples.
type server struct {
	Key, Name, Kind string
	// Path is where decisions are asked; OPABody wraps the request as {"input": ...}.
	Path    string
	OPABody bool
	// argv returns the command line for a listen address.
	argv func(addr string) []string

	Closed []closedSample
	Open   []openSample
	Cold   []time.Duration
}

// rolegateConfig is the YAML of a rolegate configuration: decision log off, log level
// warn, the benchmark's policy bundle, and the store.
func rolegateConfig(policyBundle, store string) string {
	return fmt.Sprintf("decision_log: \"off\"\nlog: {format: json, level: warn}\npolicy: %s\n%s",
		policyBundle, store)
}

// servers returns the configurations: rolegate over Redis with its near cache, over
// Redis without it, with the embedded store; OPA's server; the bare Gin ceiling. OPA
// runs between rolegate's configurations, so that noise reaches both alike.
func servers(bin binaries, f files, redisURL, work string) ([]*server, error) {
	rg, err := rolegateServers(bin, f, redisURL, work)
	if err != nil {
		return nil, err
	}
	opa := &server{
		Key: keyOPA, Name: "OPA, opa run --server", Kind: kindOPA,
		Path: "/v1/data/rolegate/authz/decision", OPABody: true,
		argv: func(addr string) []string {
			return []string{
				bin.OPA, "run", "--server", "--addr", addr, "--skip-version-check", "--log-level", "error",
				"--bundle", f.PolicyBundle, f.DataBundle,
			}
		},
	}
	gin := &server{
		Key: keyCeiling, Name: "bare Gin endpoint (ceiling)", Kind: kindCeiling, Path: "/v1/decisions",
		argv: func(addr string) []string { return []string{bin.Ceiling, "-addr", addr} },
	}
	return []*server{rg[0], opa, rg[1], gin, rg[2]}, nil
}

// rolegateServers writes a config file for each of rolegate's configurations.
func rolegateServers(bin binaries, f files, redisURL, work string) ([]*server, error) {
	stores := []struct{ key, name, store string }{
		{keyWarm, "rolegate, Redis, near cache warm", fmt.Sprintf("redis: {url: %q}\n", redisURL)},
		{
			keyCold, "rolegate, Redis, near cache off",
			fmt.Sprintf("redis: {url: %q, cache_enabled: false}\n", redisURL),
		},
		{keyEmbedded, "rolegate, embedded store", fmt.Sprintf("data: %s\n", f.Data)},
	}
	var out []*server
	for _, s := range stores {
		cfg := filepath.Join(work, s.key+".yaml")
		if err := os.WriteFile(cfg, []byte(rolegateConfig(f.PolicyBundle, s.store)), 0o644); err != nil {
			return nil, err
		}
		out = append(out, &server{
			Key: s.key, Name: s.name, Kind: kindRolegate, Path: "/v1/decisions",
			argv: func(addr string) []string {
				return []string{bin.Rolegate, "serve", "--config", cfg, "--addr", addr}
			},
		})
	}
	return out, nil
}

// find returns the configuration with the key.
func find(all []*server, key string) *server {
	for _, s := range all {
		if s.Key == key {
			return s
		}
	}
	return nil
}

// rotate returns the configurations in round r's order: each round starts one
// further along, so that no configuration always runs first or after the same one.
func rotate(all []*server, r int) []*server {
	out := make([]*server, len(all))
	for i := range all {
		out[i] = all[(i+r)%len(all)]
	}
	return out
}
