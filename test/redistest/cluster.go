package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// clusterMasters is how many masters StartCluster creates.
const clusterMasters = 3

// Cluster is a Redis Cluster of three masters and no replicas.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts three cluster-enabled servers, joins them with
// redis-cli --cluster create, and waits until every node reports cluster_state:ok.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	cli := Binary(t, "redis-cli")
	c := &Cluster{}
	for range clusterMasters {
		bus, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, Start(t, Options{Args: []string{
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "3000", "--cluster-port", strconv.Itoa(bus),
		}}))
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.waitOK(); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return c
}

// Addrs returns the nodes' host:port addresses.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	return addrs
}

// Client returns a go-redis cluster client of the cluster, closed by the test's
// cleanup.
func (c *Cluster) Client(t testing.TB) *goredis.ClusterClient {
	t.Helper()
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs(), DialTimeout: time.Second})
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// waitOK waits until every node sees all slots served and all nodes known.
func (c *Cluster) waitOK() error {
	deadline := time.Now().Add(readyTimeout)
	for _, n := range c.Nodes {
		client := goredis.NewClient(n.Options())
		err := waitNodeOK(client, deadline)
		client.Close()
		if err != nil {
			return fmt.Errorf("cluster node %s: %w", n.Addr, err)
		}
	}
	return nil
}

func waitNodeOK(client *goredis.Client, deadline time.Time) error {
	want := []string{
		"cluster_state:ok", "cluster_slots_ok:16384",
		"cluster_known_nodes:" + strconv.Itoa(clusterMasters),
	}
	var info string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, _ = client.ClusterInfo(ctx).Result()
		cancel()
		if containsAll(info, want) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ok after %v:\n%s", readyTimeout, info)
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
