package replay_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/replay"
)

// BenchmarkReplay replays the decision log of every domain case against the policy
// that made it, reading included, and reports decisions per second.
func BenchmarkReplay(b *testing.B) {
	log := domainLog(b)
	p := builtIn(b)
	for _, workers := range []int{1, 0} {
		name := fmt.Sprintf("workers=%d", workers)
		if workers == 0 {
			name = "workers=GOMAXPROCS"
		}
		b.Run(name, func(b *testing.B) {
			var n int
			for b.Loop() {
				rep, err := replay.Run(context.Background(), strings.NewReader(log), p,
					replay.Options{Workers: workers})
				if err != nil || rep.Changed != 0 {
					b.Fatalf("changed %v, error %v", rep, err)
				}
				n += rep.Replayed
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}
