package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/rolegate/rolegate/internal/auth"
	"github.com/rolegate/rolegate/internal/members"
	"github.com/rolegate/rolegate/internal/membership"
)

// Authenticator verifies the credential of an administrative request, given all the
// values of its Authorization header.
type Authenticator interface {
	Authenticate(ctx context.Context, authorization []string) (auth.Identity, error)
}

const identityKey = "rolegate.identity"

// admin registers an administrative route: only an authenticated caller reaches h.
func (s *Server) admin(method, path string, h func(c *ctx) error) {
	s.adminRoutes = append(s.adminRoutes, method+" "+path)
	s.router.Handle(method, path, s.handle(func(c *ctx) error {
		if err := s.authenticate(c); err != nil {
			return err
		}
		return h(c)
	}))
}

// AdminRoutes lists the administrative routes as "METHOD path".
func (s *Server) AdminRoutes() []string { return s.adminRoutes }

func (s *Server) authenticate(c *ctx) error {
	if s.opts.Auth == nil {
		return unauthenticated("no credentials are configured on this server", nil)
	}
	id, err := s.opts.Auth.Authenticate(c.Request.Context(), c.Request.Header.Values("Authorization"))
	if err != nil {
		msg := "a valid bearer credential is required"
		if errors.Is(err, auth.ErrNoCredential) {
			msg = "no credential: send Authorization: Bearer <token>"
		}
		return unauthenticated(msg, err)
	}
	c.Set(identityKey, id)
	return nil
}

func unauthenticated(message string, err error) *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: message, Err: err}
}

// user returns the authenticated user; the service token is refused here, as it may
// only create workspaces.
func user(c *ctx) (string, error) {
	id, _ := c.MustGet(identityKey).(auth.Identity)
	if id.Service || id.Subject == "" {
		return "", &apiError{
			Status: http.StatusForbidden, Code: "user_required",
			Message: "this route acts for a user: authenticate with the user's token",
		}
	}
	return id.Subject, nil
}

type workspaceRequest struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Tenant string `json:"tenant,omitempty"`
	Admins []struct {
		User string `json:"user"`
		Role string `json:"role,omitempty"`
	} `json:"admins"`
}

type invitationRequest struct {
	User         string   `json:"user"`
	Role         string   `json:"role"`
	MiniPrograms []string `json:"miniprograms,omitempty"`
}

type roleRequest struct {
	Role         string    `json:"role"`
	MiniPrograms *[]string `json:"miniprograms,omitempty"`
}

type membershipResponse struct {
	Membership membership.Membership `json:"membership"`
	Revision   string                `json:"revision"`
}

type membersResponse struct {
	Workspace string                  `json:"workspace"`
	Members   []membership.Membership `json:"members"`
	Revision  string                  `json:"revision"`
}

type revisionResponse struct {
	Revision string `json:"revision"`
}

func token(rev uint64) string { return strconv.FormatUint(rev, 10) }

func (s *Server) createWorkspace(c *ctx) error {
	if id, _ := c.MustGet(identityKey).(auth.Identity); !id.Service {
		return &apiError{
			Status: http.StatusForbidden, Code: "service_required",
			Message: "only the platform's back end (its service token) creates workspaces",
		}
	}
	var req workspaceRequest
	if err := s.readJSON(c, &req); err != nil {
		return err
	}
	admins := make([]members.FirstAdmin, len(req.Admins))
	for i, a := range req.Admins {
		admins[i] = members.FirstAdmin{User: a.User, Role: a.Role}
	}
	w := membership.Workspace{ID: req.ID, Type: req.Type, Tenant: req.Tenant}

	rev, err := s.opts.Members.CreateWorkspace(c.Request.Context(), w, admins)
	if err != nil {
		return memberError(err)
	}
	list, _, err := s.opts.Members.ListUnchecked(c.Request.Context(), w.ID)
	if err != nil {
		return memberError(err)
	}
	s.writeJSON(c, http.StatusCreated, membersResponse{Workspace: w.ID, Members: list, Revision: token(rev)})
	return nil
}

func (s *Server) listMembers(c *ctx) error {
	actor, err := user(c)
	if err != nil {
		return err
	}
	list, rev, err := s.opts.Members.List(c.Request.Context(), actor, c.Param("workspace"))
	if err != nil {
		return memberError(err)
	}
	s.writeJSON(c, http.StatusOK, membersResponse{Workspace: c.Param("workspace"), Members: list, Revision: token(rev)})
	return nil
}

func (s *Server) invite(c *ctx) error {
	actor, err := user(c)
	if err != nil {
		return err
	}
	var req invitationRequest
	if err := s.readJSON(c, &req); err != nil {
		return err
	}
	inv := members.Invitation{User: req.User, Role: req.Role, MiniPrograms: req.MiniPrograms}
	res, err := s.opts.Members.Invite(c.Request.Context(), actor, c.Param("workspace"), inv)
	return s.answerMembership(c, http.StatusCreated, res, err)
}

func (s *Server) accept(c *ctx) error {
	actor, err := user(c)
	if err != nil {
		return err
	}
	if actor != c.Param("user") {
		return &apiError{
			Status: http.StatusForbidden, Code: "not_invitee",
			Message: "only the invited user accepts an invitation",
		}
	}
	res, err := s.opts.Members.Accept(c.Request.Context(), actor, c.Param("workspace"))
	return s.answerMembership(c, http.StatusOK, res, err)
}

func (s *Server) assignRole(c *ctx) error {
	actor, err := user(c)
	if err != nil {
		return err
	}
	var req roleRequest
	if err := s.readJSON(c, &req); err != nil {
		return err
	}
	var mps []string
	if req.MiniPrograms != nil {
		mps = append([]string{}, *req.MiniPrograms...)
	}
	res, err := s.opts.Members.AssignRole(c.Request.Context(), actor, c.Param("workspace"), c.Param("user"), req.Role, mps)
	return s.answerMembership(c, http.StatusOK, res, err)
}

// memberChange serves the lifecycle steps that take no body and return a membership.
func (s *Server) memberChange(
	step func(m *members.Manager, ctx context.Context, actor, workspace, user string) (members.Result, error),
) func(c *ctx) error {
	return func(c *ctx) error {
		actor, err := user(c)
		if err != nil {
			return err
		}
		res, err := step(s.opts.Members, c.Request.Context(), actor, c.Param("workspace"), c.Param("user"))
		return s.answerMembership(c, http.StatusOK, res, err)
	}
}

// memberDelete serves the lifecycle steps that delete a membership.
func (s *Server) memberDelete(
	step func(m *members.Manager, ctx context.Context, actor, workspace, user string) (uint64, error),
) func(c *ctx) error {
	return func(c *ctx) error {
		actor, err := user(c)
		if err != nil {
			return err
		}
		rev, err := step(s.opts.Members, c.Request.Context(), actor, c.Param("workspace"), c.Param("user"))
		if err != nil {
			return memberError(err)
		}
		s.writeJSON(c, http.StatusOK, revisionResponse{Revision: token(rev)})
		return nil
	}
}

func (s *Server) answerMembership(c *gin.Context, status int, res members.Result, err error) error {
	if err != nil {
		return memberError(err)
	}
	s.writeJSON(c, status, membershipResponse{Membership: res.Membership, Revision: token(res.Revision)})
	return nil
}

// memberError maps a lifecycle error to its status.
func memberError(err error) error {
	var e *members.Error
	if !errors.As(err, &e) {
		return err
	}
	status := map[members.Kind]int{
		members.KindInvalid:     http.StatusBadRequest,
		members.KindForbidden:   http.StatusForbidden,
		members.KindNotFound:    http.StatusNotFound,
		members.KindConflict:    http.StatusConflict,
		members.KindUnavailable: http.StatusServiceUnavailable,
	}[e.Kind]
	return &apiError{Status: status, Code: e.Code, Message: e.Message, Err: err}
}
