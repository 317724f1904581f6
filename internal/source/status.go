package source

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Stage is the step of a refresh that failed.
type Stage string

// The stages of a refresh, in order. StagePersist failing leaves the new policy
// active: only the copy on disk is missing.
const (
	StageDownload Stage = "download"
	StageRead     Stage = "read"
	StageParse    Stage = "parse"
	StageVerify   Stage = "verify"
	StageCompile  Stage = "compile"
	StagePersist  Stage = "persist"
)

// Status describes the policy source and the active policy, for GET /v1/status.
type Status struct {
	// Source is the configured source.
	Source Origin `json:"source"`
	// Ready reports whether a policy is active and not stale; Reason says why not.
	Ready  bool   `json:"ready"`
	Reason string `json:"reason,omitempty"`
	// Policy is the active policy; nil before the first activation.
	Policy *Active `json:"policy,omitempty"`
	// LastRefresh is the last time the source confirmed the active policy: a new
	// one activated, or the same one found unchanged.
	LastRefresh time.Time `json:"last_refresh,omitzero"`
	// StaleAt is when the policy goes stale without a refresh; zero when it never does.
	StaleAt time.Time `json:"stale_at,omitzero"`
	Stale   bool      `json:"stale"`
	// LastError is the most recent failure. It stays after later successes:
	// compare its time with LastRefresh.
	LastError *Failure `json:"last_error,omitempty"`
	Stats     Stats    `json:"stats"`
}

// Origin is where a policy comes from. Location is a path, or a URL without its
// user information and query.
type Origin struct {
	Kind     Kind   `json:"kind"`
	Location string `json:"location"`
}

// Active is the active policy and where and when it came from.
type Active struct {
	Revision    string    `json:"revision"`
	Origin      Origin    `json:"origin"`
	ETag        string    `json:"etag,omitempty"`
	ActivatedAt time.Time `json:"activated_at"`
}

// Failure is one failed refresh.
type Failure struct {
	Stage Stage     `json:"stage"`
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// Stats are counters since the manager was created.
type Stats struct {
	// Refreshes counts refresh attempts, whatever their outcome.
	Refreshes uint64 `json:"refreshes"`
	// Unchanged counts refreshes that found the active policy current (HTTP 304,
	// or the same content) and compiled nothing.
	Unchanged   uint64 `json:"unchanged"`
	Activations uint64 `json:"activations"`
	// Failures counts failed refreshes by stage; every stage has an entry.
	Failures map[Stage]uint64 `json:"failures"`
}

// counters are the Stats, updated with atomic adds so that reading them for metrics
// takes no lock.
type counters struct {
	refreshes, unchanged, activations atomic.Uint64
	failures                          [len(stageNames)]atomic.Uint64
}

// stageNames lists every stage; counters.failures follows its order.
var stageNames = [...]Stage{StageDownload, StageRead, StageParse, StageVerify, StageCompile, StagePersist}

func (c *counters) fail(s Stage) {
	for i, name := range stageNames {
		if name == s {
			c.failures[i].Add(1)
		}
	}
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Refreshes:   c.refreshes.Load(),
		Unchanged:   c.unchanged.Load(),
		Activations: c.activations.Load(),
		Failures:    make(map[Stage]uint64, len(stageNames)),
	}
	for i, name := range stageNames {
		s.Failures[name] = c.failures[i].Load()
	}
	return s
}

// stageError is an error with the stage it happened in.
type stageError struct {
	stage Stage
	err   error
}

func (e *stageError) Error() string { return fmt.Sprintf("%s: %v", e.stage, e.err) }

func (e *stageError) Unwrap() error { return e.err }

func failAt(stage Stage, err error) error { return &stageError{stage: stage, err: err} }

// cause returns the error a stageError wraps, or err itself.
func cause(err error) error {
	if se, ok := errors.AsType[*stageError](err); ok {
		return se.err
	}
	return err
}

// StageOf returns the stage a Refresh error happened in, or "" for another error.
func StageOf(err error) Stage {
	if se, ok := errors.AsType[*stageError](err); ok {
		return se.stage
	}
	return ""
}
