package redis_test

import (
	"testing"

	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/redis"
	"github.com/rolegate/rolegate/internal/membership/storetest"
	"github.com/rolegate/rolegate/test/redistest"
)

func TestContract(t *testing.T) {
	single := redistest.Start(t, redistest.Options{})
	socket := redistest.Start(t, redistest.Options{Socket: true})
	cluster := redistest.StartCluster(t)
	sentinel := redistest.StartSentinel(t, single, "rolegate-test")
	tests := []struct {
		name   string
		config func() redis.Config
	}{
		{"single server", func() redis.Config { return config(single.URL()) }},
		{"single server without cache", func() redis.Config {
			cfg := config(single.URL())
			cfg.CacheEnabled = false
			return cfg
		}},
		{"unix socket", func() redis.Config { return config(socket.URL()) }},
		{"sentinel", func() redis.Config {
			cfg := config("")
			cfg.URL, cfg.Addrs, cfg.MasterName = "", []string{sentinel.Addr}, "rolegate-test"
			return cfg
		}},
		{"cluster of three masters", func() redis.Config {
			cfg := config("")
			cfg.URL, cfg.Addrs = "", cluster.Addrs()
			return cfg
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) membership.Store { return open(t, tt.config()) })
		})
	}
}
