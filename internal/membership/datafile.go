package membership

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
)

// Data is the membership data file: every workspace and every membership. Commands
// that load memberships (decide, serve with the embedded store, import into Redis)
// all read this format.
type Data struct {
	Workspaces  []Workspace  `json:"workspaces"`
	Memberships []Membership `json:"memberships"`
}

// Decode reads a membership data file. Unknown fields, duplicate keys and invalid
// UTF-8 are errors; the contents are not validated (see Data.Validate).
func Decode(r io.Reader) (*Data, error) {
	var d Data
	if err := json.UnmarshalRead(r, &d, json.RejectUnknownMembers(true)); err != nil {
		return nil, fmt.Errorf("decode membership data: %w", err)
	}
	return &d, nil
}

// Sort puts the workspaces in order of id and the memberships in order of workspace,
// then user, the order Export returns them in.
func (d *Data) Sort() {
	slices.SortFunc(d.Workspaces, func(a, b Workspace) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(d.Memberships, func(a, b Membership) int {
		return cmp.Or(cmp.Compare(a.Workspace, b.Workspace), cmp.Compare(a.User, b.User))
	})
}

// Encode writes d in the data file format, one workspace or membership a line.
func (d *Data) Encode(w io.Writer) error {
	var b strings.Builder
	b.WriteString("{\n")
	if err := encodeList(&b, "workspaces", d.Workspaces); err != nil {
		return err
	}
	b.WriteString(",\n")
	if err := encodeList(&b, "memberships", d.Memberships); err != nil {
		return err
	}
	b.WriteString("\n}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func encodeList[T any](b *strings.Builder, name string, items []T) error {
	fmt.Fprintf(b, "  %q: [", name)
	for i, item := range items {
		line, err := json.Marshal(item)
		if err != nil {
			return fmt.Errorf("encode membership data: %w", err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		b.Write(line)
	}
	if len(items) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteByte(']')
	return nil
}

// LoadFile decodes and validates the membership data file at path.
func LoadFile(path string, roles Roles) (*Data, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load membership data: %w", err)
	}
	defer f.Close()

	d, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := d.Validate(roles); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Problem is one thing wrong in membership data, with where it is.
type Problem struct {
	// Location is a path into the file, such as "memberships[3]".
	Location string
	Message  string
}

func (p Problem) String() string { return p.Location + ": " + p.Message }

// ValidationError lists every problem found in membership data.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid membership data: %d problem(s)", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Validate checks the data against the roles the policy knows and reports every
// problem at once as a *ValidationError.
func (d *Data) Validate(roles Roles) error {
	v := validator{roles: roles, workspaces: make(map[string]Workspace)}
	v.workspaces = v.checkWorkspaces(d.Workspaces)
	v.checkMemberships(d.Memberships)
	if len(v.problems) > 0 {
		return &ValidationError{Problems: v.problems}
	}
	return nil
}

type validator struct {
	roles      Roles
	workspaces map[string]Workspace
	problems   []Problem
}

func (v *validator) addf(location, format string, args ...any) {
	v.problems = append(v.problems, Problem{Location: location, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) checkWorkspaces(list []Workspace) map[string]Workspace {
	byID := make(map[string]Workspace, len(list))
	for i, w := range list {
		loc := fmt.Sprintf("workspaces[%d] (%s)", i, w.ID)
		if w.ID == "" {
			v.addf(loc, "id is required")
			continue
		}
		if _, dup := byID[w.ID]; dup {
			v.addf(loc, "workspace %q is listed twice", w.ID)
			continue
		}
		byID[w.ID] = w
	}
	for i, w := range list {
		v.checkWorkspace(fmt.Sprintf("workspaces[%d] (%s)", i, w.ID), w, byID)
	}
	return byID
}

func (v *validator) checkWorkspace(loc string, w Workspace, byID map[string]Workspace) {
	switch w.Type {
	case TypeTenant:
		if w.Tenant != "" {
			v.addf(loc, "a tenant workspace has no tenant, got %q", w.Tenant)
		}
	case TypeDeveloper:
		t, ok := byID[w.Tenant]
		switch {
		case w.Tenant == "":
			v.addf(loc, "a developer workspace needs its tenant")
		case !ok:
			v.addf(loc, "tenant %q is not a known workspace", w.Tenant)
		case t.Type != TypeTenant:
			v.addf(loc, "tenant %q is a %s workspace, not a tenant", w.Tenant, t.Type)
		}
	default:
		v.addf(loc, "type %q is not %q or %q", w.Type, TypeTenant, TypeDeveloper)
	}
}

func (v *validator) checkMemberships(list []Membership) {
	seen := make(map[[2]string]int, len(list))
	for i, m := range list {
		loc := fmt.Sprintf("memberships[%d] (%s in %s)", i, m.User, m.Workspace)
		if m.User == "" {
			v.addf(loc, "user is required")
		}
		key := [2]string{m.User, m.Workspace}
		if first, dup := seen[key]; dup {
			v.addf(loc, "duplicate of memberships[%d]: a user holds one role per workspace", first)
		} else {
			seen[key] = i
		}
		if !m.Status.Valid() {
			v.addf(loc, "status %q is not invited, active or blocked", m.Status)
		}
		v.checkRole(loc, m)
	}
}

func (v *validator) checkRole(loc string, m Membership) {
	w, known := v.workspaces[m.Workspace]
	if !known {
		v.addf(loc, "workspace %q is not known", m.Workspace)
	}
	roleType, ok := v.roles[m.Role]
	switch {
	case !ok:
		v.addf(loc, "role %q is not known", m.Role)
	case known && roleType != w.Type:
		v.addf(loc, "role %s belongs in %s workspaces, and %s is a %s workspace",
			m.Role, roleType, m.Workspace, w.Type)
	}
}
