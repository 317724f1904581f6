package redis

import goredis "github.com/redis/go-redis/v9"

// AddHook adds a go-redis hook to the store's client, for tests that count calls.
func (s *Store) AddHook(h goredis.Hook) { s.client.AddHook(h) }
