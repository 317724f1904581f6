package main

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// median returns the median of xs (the mean of the middle two for an even count);
// zero for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// medianOf returns the median of f over xs.
func medianOf[T any](xs []T, f func(T) float64) float64 {
	vs := make([]float64, len(xs))
	for i, x := range xs {
		vs[i] = f(x)
	}
	return median(vs)
}

func medianDuration(ds []time.Duration) time.Duration {
	return time.Duration(medianOf(ds, func(d time.Duration) float64 { return float64(d) }))
}

// fmtCount writes a whole number with thousands separators: 12,346.
func fmtCount(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fmtDur writes a duration with three significant figures or so.
func fmtDur(d time.Duration) string {
	switch {
	case d < 100*time.Microsecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// fmtBytes writes a size in decimal units: 924 B, 9.8 KB, 45.3 MB.
func fmtBytes(b float64) string {
	switch {
	case b < 1e3:
		return fmt.Sprintf("%.0f B", b)
	case b < 1e6:
		return fmt.Sprintf("%.1f KB", b/1e3)
	case b < 1e9:
		return fmt.Sprintf("%.1f MB", b/1e6)
	}
	return fmt.Sprintf("%.2f GB", b/1e9)
}

// fmtRatio writes a/b as 2.61×, with more digits below 0.1 (0.0015×), or – when b
// is zero.
func fmtRatio(a, b float64) string {
	switch r := a / b; {
	case b == 0:
		return "–"
	case r != 0 && r < 0.1:
		return fmt.Sprintf("%.2g×", r)
	default:
		return fmt.Sprintf("%.2f×", r)
	}
}
