// Package management reads and writes App ID users' roles and profiles through App ID's management API
// ({managementUrl}/users/{id}/roles and friends), authenticating with IBM Cloud IAM tokens.
package management

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	requestTimeout = 10 * time.Second
	maxBodyBytes   = 1 << 20
)

// TokenSource supplies IAM access tokens; *iam.TokenSource is one.
type TokenSource interface {
	// Token returns a valid IAM access token.
	Token(ctx context.Context) (string, error)
	// Invalidate tells the source that token was refused, so that the next Token call fetches a new one.
	Invalidate(token string)
}

// Client calls one App ID instance's management API. It is safe for concurrent use.
type Client struct {
	baseURL string
	tokens  TokenSource
	http    *http.Client
}

// New returns a Client for managementURL (https://{region}.appid.cloud.ibm.com/management/v4/{tenantId}). A nil
// client means a default one with a timeout; every request also carries its own timeout.
func New(managementURL string, tokens TokenSource, client *http.Client) *Client {
	if client == nil {
		client = &http.Client{Timeout: requestTimeout}
	}
	return &Client{baseURL: strings.TrimSuffix(managementURL, "/"), tokens: tokens, http: client}
}

// Role is a role assigned to a user.
type Role struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// RoleDetail is a role as the instance defines it, with the scopes it grants per application.
type RoleDetail struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Access      []Access `json:"access"`
}

// Access lists the scopes a role grants in one application.
type Access struct {
	ApplicationID string   `json:"application_id"`
	Scopes        []string `json:"scopes"`
}

// Profile is a user's App ID profile.
type Profile struct {
	ID         string         `json:"id"`
	Name       string         `json:"name,omitempty"`
	Email      string         `json:"email,omitempty"`
	Identities []Identity     `json:"identities,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Identity is one identity provider's record of a user.
type Identity struct {
	Provider string         `json:"provider"`
	ID       string         `json:"id"`
	Profile  map[string]any `json:"idpUserInfo,omitempty"`
}

// Error is the management API answering with a status other than success.
type Error struct {
	Method     string
	Endpoint   string // the path template, such as "/users/{id}/roles": user ids stay out of messages
	StatusCode int
	Message    string // the API's message, when it gave one
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("management: %s %s answered %d", e.Method, e.Endpoint, e.StatusCode)
	}
	return fmt.Sprintf("management: %s %s answered %d: %s", e.Method, e.Endpoint, e.StatusCode, e.Message)
}

// UserRoles returns the roles assigned to the user whose App ID profile id (the tokens' sub) is userID.
func (c *Client) UserRoles(ctx context.Context, userID string) ([]Role, error) {
	var out struct {
		Roles []Role `json:"roles"`
	}
	err := c.do(ctx, http.MethodGet, "/users/{id}/roles", "/users/"+url.PathEscape(userID)+"/roles", nil, &out)
	if err != nil {
		return nil, err
	}
	return out.Roles, nil
}

// SetUserRoles replaces the roles of the user userID with the roles whose ids are roleIDs.
func (c *Client) SetUserRoles(ctx context.Context, userID string, roleIDs []string) error {
	if roleIDs == nil {
		roleIDs = []string{}
	}
	body := map[string]any{"roles": map[string]any{"ids": roleIDs}}
	return c.do(ctx, http.MethodPut, "/users/{id}/roles", "/users/"+url.PathEscape(userID)+"/roles", body, nil)
}

// Roles returns every role the instance defines.
func (c *Client) Roles(ctx context.Context) ([]RoleDetail, error) {
	var out struct {
		Roles []RoleDetail `json:"roles"`
	}
	if err := c.do(ctx, http.MethodGet, "/roles", "/roles", nil, &out); err != nil {
		return nil, err
	}
	return out.Roles, nil
}

// UserProfile returns the App ID profile of the user userID.
func (c *Client) UserProfile(ctx context.Context, userID string) (Profile, error) {
	var out Profile
	err := c.do(ctx, http.MethodGet, "/users/{id}/profile", "/users/"+url.PathEscape(userID)+"/profile", nil, &out)
	return out, err
}

// do sends one request with an IAM token. A 401 means the token was refused although it looked valid (revoked,
// or expired early): the token is dropped, a new one fetched, and the request sent once more.
func (c *Client) do(ctx context.Context, method, endpoint, path string, in, out any) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return fmt.Errorf("management: encoding %s %s: %w", method, endpoint, err)
		}
	}
	for attempt := 0; ; attempt++ {
		token, err := c.tokens.Token(ctx)
		if err != nil {
			return fmt.Errorf("management: getting an IAM token for %s %s: %w", method, endpoint, err)
		}
		status, body, err := c.send(ctx, method, endpoint, path, token, payload)
		if err != nil {
			return err
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			c.tokens.Invalidate(token)
			continue
		}
		if status < 200 || status > 299 {
			return &Error{Method: method, Endpoint: endpoint, StatusCode: status, Message: messageOf(body)}
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("management: decoding %s %s answer: %w", method, endpoint, err)
		}
		return nil
	}
}

func (c *Client) send(ctx context.Context, method, endpoint, path, token string, payload []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, body)
	if err != nil {
		return 0, nil, fmt.Errorf("management: building %s %s: %w", method, endpoint, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("management: %s %s failed: %w", method, endpoint, stripURL(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return 0, nil, fmt.Errorf("management: reading %s %s answer: %w", method, endpoint, err)
	}
	return resp.StatusCode, data, nil
}

// stripURL keeps a transport error's cause but drops the request URL, which holds a user id.
func stripURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// messageOf extracts a short message from an App ID error body ({"message":...} or {"error":...}).
func messageOf(body []byte) string {
	var e struct {
		Message          string `json:"message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := e.Message
	if msg == "" {
		msg = strings.TrimSpace(e.Error + " " + e.ErrorDescription)
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}
