// Package iam obtains IBM Cloud IAM access tokens for an API key, as App ID's management API requires, and keeps
// one cached so that callers pay for a token request only when it is due.
package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// DefaultTokenURL is IBM Cloud IAM's token endpoint.
const DefaultTokenURL = "https://iam.cloud.ibm.com/identity/token"

// GrantTypeAPIKey is the grant type IAM expects for an API-key exchange.
const GrantTypeAPIKey = "urn:ibm:params:oauth:grant-type:apikey"

const (
	requestTimeout = 10 * time.Second
	maxBodyBytes   = 1 << 20
	// renewFraction is how much of a token's life passes before it is renewed, as IBM's SDKs do.
	renewFraction = 0.8
)

// TokenSource hands out IAM access tokens for one API key. It caches the current token, renews it once 80% of
// its lifetime has passed, and lets only one request to IAM be in flight at a time however many callers wait.
// It is safe for concurrent use.
type TokenSource struct {
	apiKey   string
	tokenURL string
	client   *http.Client
	now      func() time.Time

	group singleflight.Group

	mu        sync.Mutex
	token     string
	renewAt   time.Time
	expiresAt time.Time
}

// NewTokenSource returns a TokenSource that exchanges apiKey at tokenURL (DefaultTokenURL when empty). A nil
// client means a default one with a timeout; every request also carries its own timeout.
func NewTokenSource(apiKey, tokenURL string, client *http.Client) *TokenSource {
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	if client == nil {
		client = &http.Client{Timeout: requestTimeout}
	}
	return &TokenSource{apiKey: apiKey, tokenURL: tokenURL, client: client, now: time.Now}
}

// Token returns a valid access token, from the cache while it is fresh. When renewal fails but the cached token
// has not expired yet, the cached token is returned, so a short IAM outage is not felt.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	now := s.now()
	token, fresh, usable := s.token, now.Before(s.renewAt), now.Before(s.expiresAt)
	s.mu.Unlock()
	if token != "" && fresh {
		return token, nil
	}

	// The fetch runs detached from any one caller's cancellation, so that a caller giving up does not fail the
	// others waiting on the same fetch; it is still bounded by requestTimeout.
	ch := s.group.DoChan("token", func() (any, error) {
		fetchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
		defer cancel()
		return s.fetch(fetchCtx)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			if token != "" && usable {
				return token, nil
			}
			return "", res.Err
		}
		return res.Val.(string), nil
	case <-ctx.Done():
		return "", fmt.Errorf("iam: waiting for a token: %w", ctx.Err())
	}
}

// Invalidate drops token from the cache if it is the cached one, so that the next Token call fetches a new one.
// Callers use it when a service answers 401 to a token that looked valid.
func (s *TokenSource) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == token {
		s.token, s.renewAt, s.expiresAt = "", time.Time{}, time.Time{}
	}
}

// tokenResponse is IAM's answer to a successful API-key exchange.
type tokenResponse struct {
	AccessToken string      `json:"access_token"`
	TokenType   string      `json:"token_type"`
	ExpiresIn   json.Number `json:"expires_in"`
	Expiration  json.Number `json:"expiration"`
}

// errorResponse is IAM's answer to a refused request.
type errorResponse struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// Error is IAM refusing a token request, with the status and IAM's own error code and message.
type Error struct {
	StatusCode int
	Code       string
	Message    string
}

func (e *Error) Error() string {
	if e.Code == "" && e.Message == "" {
		return fmt.Sprintf("iam: token request refused with status %d", e.StatusCode)
	}
	return fmt.Sprintf("iam: token request refused with status %d: %s %s", e.StatusCode, e.Code, e.Message)
}

func (s *TokenSource) fetch(ctx context.Context) (string, error) {
	if s.apiKey == "" {
		return "", errors.New("iam: no API key configured")
	}
	form := url.Values{"grant_type": {GrantTypeAPIKey}, "apikey": {s.apiKey}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("iam: building token request for %s: %w", s.tokenURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	sent := s.now()
	resp, err := s.client.Do(req)
	if err != nil {
		// The URL error would name the request URL only; the API key travels in the body, never in the error.
		return "", fmt.Errorf("iam: token request to %s failed: %w", s.tokenURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return "", fmt.Errorf("iam: reading token response from %s: %w", s.tokenURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e errorResponse
		_ = json.Unmarshal(body, &e)
		return "", &Error{StatusCode: resp.StatusCode, Code: e.ErrorCode, Message: e.ErrorMessage}
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", fmt.Errorf("iam: decoding token response from %s: %w", s.tokenURL, err)
	}
	if tr.AccessToken == "" {
		return "", fmt.Errorf("iam: token response from %s has no access_token", s.tokenURL)
	}
	lifetime, err := lifetimeOf(tr, sent)
	if err != nil {
		return "", fmt.Errorf("iam: token response from %s: %w", s.tokenURL, err)
	}

	s.mu.Lock()
	s.token = tr.AccessToken
	s.expiresAt = sent.Add(lifetime)
	s.renewAt = sent.Add(time.Duration(float64(lifetime) * renewFraction))
	s.mu.Unlock()
	return tr.AccessToken, nil
}

// lifetimeOf reads how long a token lives: expires_in (a number or a numeric string), else expiration (epoch
// seconds) relative to when the request was sent.
func lifetimeOf(tr tokenResponse, sent time.Time) (time.Duration, error) {
	if tr.ExpiresIn != "" {
		secs, err := strconv.ParseFloat(tr.ExpiresIn.String(), 64)
		if err != nil || secs <= 0 {
			return 0, fmt.Errorf("expires_in %q is not a positive number of seconds", tr.ExpiresIn)
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	if tr.Expiration != "" {
		epoch, err := strconv.ParseInt(tr.Expiration.String(), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("expiration %q is not an epoch time", tr.Expiration)
		}
		if d := time.Unix(epoch, 0).Sub(sent); d > 0 {
			return d, nil
		}
		return 0, fmt.Errorf("expiration %q is already past", tr.Expiration)
	}
	return 0, errors.New("neither expires_in nor expiration is set")
}
