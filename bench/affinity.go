package main

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// setAffinity moves every thread of this process to cpu. The affinity of a Linux
// thread is its own, so each existing thread is moved; new ones inherit it.
func setAffinity(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	for range 2 { // again, for threads started during the first pass
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("pin to core %d: %w", cpu, err)
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil {
				return fmt.Errorf("pin thread %d to core %d: %w", tid, cpu, err)
			}
		}
	}
	return nil
}
