// Package soak is rolegate's fault suite: real rolegate and redis-server processes on
// loopback, a fixed-rate load, and faults (Redis killed, paused, slowed or cut off,
// the bundle service down or serving bad bundles), each reporting its figures and a
// pass or fail in one summary table. Its tests build only with the soak tag, so that
// go test ./... leaves them out; run them with make soak (docs/reliability.md).
package soak
