package decisionlog

import (
	"errors"
	"time"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
)

// Entry is one decision as the log holds it: the request, the facts the policy was
// given, the evaluation time and the answer, with reasons as codes only.
type Entry struct {
	// Line is the entry's line number in the log, counting from 1.
	Line       int            `json:"-"`
	Time       time.Time      `json:"time"`
	DecisionID string         `json:"decision_id"`
	Subject    string         `json:"subject"`
	Action     string         `json:"action"`
	Resource   authz.Resource `json:"resource"`
	Allow      bool           `json:"allow"`
	Reasons    []string       `json:"reasons"`
	Revision   Revision       `json:"revision"`
	Facts      Facts          `json:"facts"`
	// Error is why the service could not ask the policy, when it could not.
	Error string `json:"error,omitempty"`
}

// Revision is the policy and membership revisions a decision was made with.
type Revision struct {
	Policy     string `json:"policy"`
	Membership string `json:"membership"`
}

// Input returns the policy input the decision was made with: the same request, facts
// and evaluation time.
func (e *Entry) Input() *engine.Input {
	return &engine.Input{
		Subject: e.Subject,
		Action:  e.Action,
		Resource: engine.Resource{
			Workspace:  e.Resource.Workspace,
			ID:         e.Resource.ID,
			Attributes: e.Resource.Attributes,
		},
		Facts: engine.Facts{Workspace: e.Facts.Workspace, Memberships: e.Facts.Memberships},
		Time:  e.Time,
	}
}

// line is a log line as decoded, with the presence of required fields kept apart.
type line struct {
	Message    string         `json:"msg"`
	Time       time.Time      `json:"time"`
	DecisionID string         `json:"decision_id"`
	Subject    string         `json:"subject"`
	Action     string         `json:"action"`
	Resource   authz.Resource `json:"resource"`
	Allow      *bool          `json:"allow"`
	Reasons    []string       `json:"reasons"`
	Revision   Revision       `json:"revision"`
	Facts      *Facts         `json:"facts"`
	Error      string         `json:"error"`
}

// entry checks that the line holds every field the writer writes and returns it.
func (l *line) entry() (Entry, error) {
	switch {
	case l.DecisionID == "":
		return Entry{}, errors.New("no decision_id")
	case l.Time.IsZero():
		return Entry{}, errors.New("no time")
	case l.Subject == "" || l.Action == "" || l.Resource.Workspace == "":
		return Entry{}, errors.New("no subject, action or resource.workspace")
	case l.Allow == nil:
		return Entry{}, errors.New("no allow")
	case len(l.Reasons) == 0:
		return Entry{}, errors.New("no reasons")
	case l.Facts == nil:
		return Entry{}, errors.New("no facts")
	}
	return Entry{
		Time: l.Time, DecisionID: l.DecisionID, Subject: l.Subject, Action: l.Action,
		Resource: l.Resource, Allow: *l.Allow, Reasons: l.Reasons, Revision: l.Revision,
		Facts: *l.Facts, Error: l.Error,
	}, nil
}
