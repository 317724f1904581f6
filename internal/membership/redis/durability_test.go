package redis_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/test/redistest"
)

// TestAcknowledgedWritesSurviveKill9 writes memberships one by one to a Redis with
// appendfsync always, kills it with SIGKILL while writes are in flight, restarts it
// and counts the acknowledged writes that are gone: there must be none.
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	const target = 500
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	cfg := config(srv.URL())
	cfg.CacheEnabled = false
	s := open(t, cfg)
	seed(t, s)

	acked := make(chan string, 4*target)
	go addMembersUntilFailure(s, acked)
	var users []string
	for user := range acked {
		users = append(users, user)
		if len(users) == target {
			srv.Kill()
		}
	}

	srv.Restart()
	missing := countMissing(t, s, users)
	t.Logf("appendfsync always: %d writes acknowledged before kill -9, %d missing after restart",
		len(users), missing)
	if missing != 0 {
		t.Fatalf("%d of %d acknowledged writes lost", missing, len(users))
	}
}

// addMembersUntilFailure adds members to tw-a one write at a time and sends each
// acknowledged user on acked, until a write fails; then it closes acked.
func addMembersUntilFailure(s membership.Store, acked chan<- string) {
	defer close(acked)
	for i := 0; ; i++ {
		user := fmt.Sprintf("u-%05d", i)
		_, err := s.Update(context.Background(), "tw-a", func(tx *membership.Tx) error {
			tx.Put(membership.Membership{
				User: user, Workspace: "tw-a", Role: "workspace_operator", Status: membership.StatusActive,
			})
			return nil
		})
		if err != nil {
			return
		}
		acked <- user
	}
}

// countMissing counts the users that are not members of tw-a.
func countMissing(t *testing.T, s membership.Store, users []string) int {
	t.Helper()
	members, err := s.Members(context.Background(), "tw-a")
	if err != nil {
		t.Fatal(err)
	}
	present := make(map[string]bool, len(members))
	for _, m := range members {
		present[m.User] = true
	}
	missing := 0
	for _, u := range users {
		if !present[u] {
			missing++
		}
	}
	return missing
}
