// Package policies embeds rolegate's Rego policies, so that the binary carries a
// working default policy wherever it runs.
package policies

import "embed"

// FS holds the rolegate policy tree, tests included.
//
//go:embed rolegate
var FS embed.FS
