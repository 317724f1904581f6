package engine

import (
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/rolegate/rolegate/internal/membership"
)

// Input is one authorization question together with the facts the caller looked up.
type Input struct {
	Subject  string
	Action   string
	Resource Resource
	Facts    Facts
	// Time is the evaluation's notion of now; zero means the current time.
	Time time.Time
}

// Resource is what the operation acts on.
type Resource struct {
	// Workspace is the id of the workspace the resource lives in.
	Workspace string
	// ID is the mini program id, when the resource is or belongs to one.
	ID string
	// Attributes are the optional facts about the resource that the caller states
	// (submitter, state, environment, ...). Values are JSON scalars.
	Attributes map[string]any
}

// Facts are what the service knows about the subject and the workspace, never what
// its caller claims.
type Facts struct {
	// Workspace is the resource's workspace; nil when no such workspace exists.
	Workspace *membership.Workspace
	// Memberships are the subject's memberships, in any status.
	Memberships []membership.Membership
}

var (
	keySubject      = ast.StringTerm("subject")
	keyAction       = ast.StringTerm("action")
	keyResource     = ast.StringTerm("resource")
	keyFacts        = ast.StringTerm("facts")
	keyWorkspace    = ast.StringTerm("workspace")
	keyID           = ast.StringTerm("id")
	keyAttributes   = ast.StringTerm("attributes")
	keyType         = ast.StringTerm("type")
	keyTenant       = ast.StringTerm("tenant")
	keyMemberships  = ast.StringTerm("memberships")
	keyRole         = ast.StringTerm("role")
	keyStatus       = ast.StringTerm("status")
	keyMiniPrograms = ast.StringTerm("miniprograms")
)

// Value returns the input document as the policy sees it.
func (in *Input) Value() (ast.Value, error) {
	resource := ast.NewObject(ast.Item(keyWorkspace, ast.StringTerm(in.Resource.Workspace)))
	if in.Resource.ID != "" {
		resource.Insert(keyID, ast.StringTerm(in.Resource.ID))
	}
	if len(in.Resource.Attributes) > 0 {
		attrs, err := ast.InterfaceToValue(in.Resource.Attributes)
		if err != nil {
			return nil, err
		}
		resource.Insert(keyAttributes, ast.NewTerm(attrs))
	}
	return ast.NewObject(
		ast.Item(keySubject, ast.StringTerm(in.Subject)),
		ast.Item(keyAction, ast.StringTerm(in.Action)),
		ast.Item(keyResource, ast.NewTerm(resource)),
		ast.Item(keyFacts, ast.NewTerm(in.Facts.value())),
	), nil
}

func (f *Facts) value() ast.Object {
	memberships := ast.NewObject()
	for _, m := range f.Memberships {
		memberships.Insert(ast.StringTerm(m.Workspace), ast.NewTerm(membershipValue(m)))
	}
	facts := ast.NewObject(ast.Item(keyMemberships, ast.NewTerm(memberships)))
	if w := f.Workspace; w != nil {
		ws := ast.NewObject(ast.Item(keyType, ast.StringTerm(w.Type)))
		if w.Tenant != "" {
			ws.Insert(keyTenant, ast.StringTerm(w.Tenant))
		}
		facts.Insert(keyWorkspace, ast.NewTerm(ws))
	}
	return facts
}

func membershipValue(m membership.Membership) ast.Object {
	mps := make([]*ast.Term, len(m.MiniPrograms))
	for i, id := range m.MiniPrograms {
		mps[i] = ast.StringTerm(id)
	}
	return ast.NewObject(
		ast.Item(keyRole, ast.StringTerm(m.Role)),
		ast.Item(keyStatus, ast.StringTerm(string(m.Status))),
		ast.Item(keyMiniPrograms, ast.ArrayTerm(mps...)),
	)
}
