//go:build soak

package soak

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFuzz runs every fuzz target the Makefile lists in FUZZ_TARGETS (what make fuzz
// runs) for the set time each: none may find a crasher, which go test would write
// under the target's testdata/fuzz as a new file, and each must have its seed
// corpus committed there.
func TestFuzz(t *testing.T) {
	targets := fuzzTargets(t)
	it := begin(t, fmt.Sprintf("%d targets, %s each", len(targets), *fuzzTime), "hostile input")
	for _, target := range targets {
		pkg, name, _ := strings.Cut(target, ":")
		corpus := filepath.Join(pkg, "testdata", "fuzz", name)
		seeds := strings.Fields(git(t, "ls-files", corpus))
		cmd := exec.Command("go", "test", "-run", "^$", "-fuzz", "^"+name+"$", "-fuzztime", fuzzTime.String(),
			"-fuzzminimizetime", "2s", pkg)
		cmd.Dir = repoRoot
		out, err := cmd.CombinedOutput()
		crashers := git(t, "status", "--porcelain", "--untracked-files=all", corpus)
		it.check(t, err == nil && crashers == "" && len(seeds) > 0, "%s: %s, %d seeds committed%s",
			name, executions(out), len(seeds), failure(t, err, crashers, out))
	}
}

// fuzzTargets reads FUZZ_TARGETS from the Makefile, continued lines included, as
// package:Target.
func fuzzTargets(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var list string
	for found := false; sc.Scan(); {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "FUZZ_TARGETS :="); ok {
			found, line = true, v
		}
		if !found {
			continue
		}
		v, more := strings.CutSuffix(line, "\\")
		if list += " " + v; !more {
			break
		}
	}
	if strings.TrimSpace(list) == "" {
		t.Fatal("no FUZZ_TARGETS in the Makefile")
	}
	return strings.Fields(list)
}

var execsLine = regexp.MustCompile(`execs: (\d+) `)

// executions returns the last count of executions go test printed.
func executions(out []byte) string {
	m := execsLine.FindAllSubmatch(out, -1)
	if len(m) == 0 {
		return "no executions reported"
	}
	return string(m[len(m)-1][1]) + " executions, 0 crashers"
}

// failure says in a few words why a run failed, and logs its output.
func failure(t *testing.T, err error, crashers string, out []byte) string {
	t.Helper()
	if err == nil && crashers == "" {
		return ""
	}
	t.Logf("go test -fuzz printed:\n%s\nnew or changed files in the corpus:\n%s", out, crashers)
	return fmt.Sprintf(" (%v, %d new or changed corpus files)", err, len(strings.Fields(crashers))/2)
}

func git(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}
