// Package management reads App ID users' roles through App ID's management API ({managementUrl}/users/{id}/roles),
// authenticating with IBM Cloud IAM tokens.
package management

import (
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
	err := c.do(ctx, http.MethodGet, "/users/{id}/roles", "/users/"+url.PathEscape(userID)+"/roles", &out)
	if err != nil {
		return nil, err
	}
	return out.Roles, nil
}

// do sends one request with an IAM token. A 401 means the token was refused although it looked valid (revoked,
// or expired early): the token is dropped, a new one fetched, and the request sent once more.
func (c *Client) do(ctx context.Context, method, endpoint, path string, out any) error {
	for attempt := 0; ; attempt++ {
		token, err := c.tokens.Token(ctx)
		if err != nil {
			return fmt.Errorf("management: getting an IAM token for %s %s: %w", method, endpoint, err)
		}
		status, body, err := c.send(ctx, method, endpoint, path, token)
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
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("management: decoding %s %s answer: %w", method, endpoint, err)
		}
		return nil
	}
}

func (c *Client) send(ctx context.Context, method, endpoint, path, token string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("management: building %s %s: %w", method, endpoint, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
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
