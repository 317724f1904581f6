package membership

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/rolegate/rolegate/internal/strictjson"
)

// Data is the membership data file: every workspace and every membership. Commands
// that load memberships (decide, serve with the embedded store, import into Redis)
// all read this format.
type Data struct {
	Workspaces  []Workspace  `json:"workspaces"`
	Memberships []Membership `json:"memberships"`
}

// Decode reads a membership data file. A file that is not well-formed JSON (duplicate
// keys and invalid UTF-8 included) or whose top level is not an object of workspaces
// and memberships is an error. Each workspace and membership is then decoded on its
// own, unknown fields and wrong types refused, so that the problems of one never hide
// another's: they come back as a *ValidationError with their locations, beside the
// data as far as it could be read. The contents are not validated (Data.Validate);
// with problems, the data is only fit for validating, to report the rest.
func Decode(r io.Reader) (*Data, error) {
	var f struct {
		Workspaces  []jsontext.Value `json:"workspaces"`
		Memberships []jsontext.Value `json:"memberships"`
	}
	if err := json.UnmarshalRead(r, &f, json.RejectUnknownMembers(true)); err != nil {
		return nil, fmt.Errorf("decode membership data: %w", err)
	}
	var problems []Problem
	d := &Data{
		Workspaces: decodeEach(f.Workspaces, &problems, func(i int, w Workspace) string {
			return fmt.Sprintf("workspaces[%d] (%s)", i, w.ID)
		}),
		Memberships: decodeEach(f.Memberships, &problems, func(i int, m Membership) string {
			return fmt.Sprintf("memberships[%d] (%s in %s)", i, m.User, m.Workspace)
		}),
	}
	if len(problems) > 0 {
		return d, &ValidationError{Problems: problems}
	}
	return d, nil
}

// decodeEach decodes every item strictly. An item that is not of its type adds a
// problem and is kept as far as a lenient decoding could read it, so that the items
// after it keep their indexes and what refers to it still finds it.
func decodeEach[T any](items []jsontext.Value, problems *[]Problem, locate func(int, T) string) []T {
	out := make([]T, len(items))
	for i, raw := range items {
		if err := strictjson.Decode(raw, &out[i], 0); err != nil {
			var partial T
			_ = json.Unmarshal(raw, &partial)
			out[i] = partial
			*problems = append(*problems, Problem{Location: locate(i, partial), Message: err.Error()})
		}
	}
	return out
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
	if d == nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := JoinProblems(err, d.Validate(roles)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// JoinProblems merges the problems of Decode's and Validate's errors into one
// *ValidationError, so that one run reports all of them; nil when both are nil. An
// item Decode could not read is reported for that alone, not again for what its
// partial reading lacks. An error of another kind is returned as it is.
func JoinProblems(decodeErr, validateErr error) error {
	var decoded, validated *ValidationError
	if decodeErr != nil && !errors.As(decodeErr, &decoded) {
		return decodeErr
	}
	if validateErr != nil && !errors.As(validateErr, &validated) {
		return validateErr
	}
	var all []Problem
	unread := make(map[string]bool)
	if decoded != nil {
		all = append(all, decoded.Problems...)
		for _, p := range decoded.Problems {
			unread[p.Location] = true
		}
	}
	if validated != nil {
		for _, p := range validated.Problems {
			if !unread[p.Location] {
				all = append(all, p)
			}
		}
	}
	if len(all) == 0 {
		return nil
	}
	return &ValidationError{Problems: all}
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
		if !ValidWorkspaceID(w.ID) {
			v.addf(loc, "%v", errInvalidID(w.ID))
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
		if m.User == "" {
			v.addAt(i, m, "user is required")
		}
		key := [2]string{m.User, m.Workspace}
		if first, dup := seen[key]; dup {
			v.addAt(i, m, "duplicate of memberships[%d]: a user holds one role per workspace", first)
		} else {
			seen[key] = i
		}
		if !m.Status.Valid() {
			v.addAt(i, m, "status %q is not invited, active or blocked", m.Status)
		}
		v.checkRole(i, m)
	}
}

// addAt adds a problem of memberships[i]. Its location is written only for a
// problem: a file of a million valid memberships writes none.
func (v *validator) addAt(i int, m Membership, format string, args ...any) {
	v.addf(fmt.Sprintf("memberships[%d] (%s in %s)", i, m.User, m.Workspace), format, args...)
}

func (v *validator) checkRole(i int, m Membership) {
	w, known := v.workspaces[m.Workspace]
	if !known {
		v.addAt(i, m, "workspace %q is not known", m.Workspace)
	}
	roleType, ok := v.roles[m.Role]
	switch {
	case !ok:
		v.addAt(i, m, "role %q is not known", m.Role)
	case known && roleType != w.Type:
		v.addAt(i, m, "role %s belongs in %s workspaces, and %s is a %s workspace",
			m.Role, roleType, m.Workspace, w.Type)
	}
}
