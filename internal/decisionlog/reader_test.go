package decisionlog_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/decisionlog"
)

// decisionLine is a decision as the writer writes it.
const decisionLine = `{"time":"2025-03-14T15:09:26.535897932+01:00","level":"INFO","msg":"decision",` +
	`"decision_id":"d-1","subject":"u-dev","action":"miniprogram:update",` +
	`"resource":{"workspace":"dw-shop","id":"mp-1"},"allow":true,"reasons":["granted"],` +
	`"revision":{"policy":"p1","membership":"1"},"facts":{"workspace":{"id":"dw-shop",` +
	`"type":"developer","tenant":"tw-alpha"},"memberships":[{"user":"u-dev","workspace":"dw-shop",` +
	`"role":"developer","status":"active","miniprograms":["mp-1"]}]},"latency_ms":0.5}`

// serviceLine is a line of the service's own log.
const serviceLine = `{"time":"2025-03-14T15:09:26Z","level":"INFO","msg":"listening","addr":"127.0.0.1:8181"}`

func TestReader(t *testing.T) {
	tests := []struct {
		name      string
		log       string
		wantLines []int
		wantOther int
		wantErr   string
	}{
		{name: "empty", log: ""},
		{name: "one decision without a final newline", log: decisionLine, wantLines: []int{1}},
		{
			name:      "other lines skipped",
			log:       "\n" + serviceLine + "\nplain text\n" + decisionLine + "\r\n[1,2]\n",
			wantLines: []int{4},
			wantOther: 4,
		},
		{
			name:      "unknown fields ignored",
			log:       strings.Replace(decisionLine, `"latency_ms"`, `"trace_id":"t","latency_ms"`, 1),
			wantLines: []int{1},
		},
		{
			name:      "cut decision",
			log:       decisionLine + "\n" + decisionLine[:200] + "\n",
			wantLines: []int{1},
			wantErr:   "line 2: malformed decision",
		},
		{
			name:      "decision without facts",
			log:       "\n" + strings.Replace(decisionLine, `"facts"`, `"fact"`, 1),
			wantErr:   "line 2: malformed decision: no facts",
			wantOther: 1,
		},
		{
			name:    "decision without time",
			log:     strings.Replace(decisionLine, `"time":"2025-03-14T15:09:26.535897932+01:00",`, "", 1),
			wantErr: "line 1: malformed decision: no time",
		},
		{
			name:    "decision with a bad time",
			log:     strings.Replace(decisionLine, `2025-03-14T15`, `yesterday`, 1),
			wantErr: "line 1: malformed decision",
		},
		{
			name:    "decision with a duplicate key",
			log:     strings.Replace(decisionLine, `"allow":true`, `"allow":true,"allow":false`, 1),
			wantErr: "line 1: malformed decision",
		},
		{
			name:      "line too long",
			log:       decisionLine + "\n" + strings.Repeat("x", decisionlog.MaxLineBytes+1) + "\n",
			wantLines: []int{1},
			wantErr:   "line 2: longer than 1048576 bytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, other, err := readAll(tt.log)
			if !errorContains(err, tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			var lines []int
			for _, e := range entries {
				lines = append(lines, e.Line)
			}
			if !cmp.Equal(lines, tt.wantLines) || other != tt.wantOther {
				t.Fatalf("decisions on lines %v and %d other lines; want %v and %d",
					lines, other, tt.wantLines, tt.wantOther)
			}
		})
	}
}

// errorContains reports whether err says want, or is nil when want is empty.
func errorContains(err error, want string) bool {
	if err == nil || want == "" {
		return err == nil && want == ""
	}
	return strings.Contains(err.Error(), want)
}
