// Package iam obtains IBM Cloud IAM access tokens, for an API key or for a trusted profile through a compute
// resource token, as App ID's management API requires, and keeps one cached so that callers pay for a token
// request only when it is due.
package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
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

// GrantTypeCRToken is the grant type IAM expects for a compute-resource token exchange (a trusted profile).
const GrantTypeCRToken = "urn:ibm:params:oauth:grant-type:cr-token"

// DefaultCRTokenFile is where Code Engine mounts the compute-resource token of an app created with
// --trusted-profiles-enabled.
const DefaultCRTokenFile = "/var/run/secrets/codeengine.cloud.ibm.com/compute-resource-token/token"

// ErrNoToken is matched (with errors.Is) by every error of TokenSource.Token: no access token could be obtained,
// whether the credential could not be read, IAM refused it or IAM was out of reach.
var ErrNoToken = errors.New("iam: no access token")

// Profile names a trusted profile and the compute-resource token that proves the workload may assume it.
type Profile struct {
	// ID is the trusted profile's id (Profile-...); Name its name. One of them is required.
	ID, Name string
	// TokenFile holds the compute-resource token, DefaultCRTokenFile when empty. It is read again for every
	// exchange, since the platform replaces the token before it expires.
	TokenFile string
}

const (
	requestTimeout = 10 * time.Second
	maxBodyBytes   = 1 << 20
	// renewFraction is how much of a token's life passes before it is renewed, as IBM's SDKs do.
	renewFraction = 0.8
)

// TokenSource hands out IAM access tokens for one API key or trusted profile. It caches the current token, renews it once 80% of
// its lifetime has passed, and lets only one request to IAM be in flight at a time however many callers wait.
// It is safe for concurrent use.
type TokenSource struct {
	grant    func() (url.Values, error) // the form of one exchange, without secrets in its errors
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
	return newTokenSource(func() (url.Values, error) {
		if apiKey == "" {
			return nil, errors.New("iam: no API key configured")
		}
		return url.Values{"grant_type": {GrantTypeAPIKey}, "apikey": {apiKey}}, nil
	}, tokenURL, client)
}

// NewProfileTokenSource returns a TokenSource that exchanges the compute-resource token in p.TokenFile for an
// access token of the trusted profile p at tokenURL (DefaultTokenURL when empty), reading the file again for
// every exchange. A nil client means a default one with a timeout.
func NewProfileTokenSource(p Profile, tokenURL string, client *http.Client) *TokenSource {
	if p.TokenFile == "" {
		p.TokenFile = DefaultCRTokenFile
	}
	return newTokenSource(func() (url.Values, error) {
		crToken, err := ReadCRToken(p.TokenFile)
		if err != nil {
			return nil, err
		}
		form := url.Values{"grant_type": {GrantTypeCRToken}, "cr_token": {crToken}}
		switch {
		case p.ID != "":
			form.Set("profile_id", p.ID)
		case p.Name != "":
			form.Set("profile_name", p.Name)
		default:
			return nil, errors.New("iam: no trusted profile id or name configured")
		}
		return form, nil
	}, tokenURL, client)
}

// CRTokenFileError is a compute-resource token file that could not be read or was empty.
type CRTokenFileError struct {
	File string
	Err  error // the cause; nil for an empty file
}

func (e *CRTokenFileError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("iam: the compute-resource token file %s is empty", e.File)
	}
	return fmt.Sprintf("iam: reading the compute-resource token file %s: %v", e.File, e.Err)
}

func (e *CRTokenFileError) Unwrap() error { return e.Err }

// ReadCRToken reads a compute-resource token from file. A missing, unreadable or empty file gives a
// *CRTokenFileError, which never holds the token.
func ReadCRToken(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err // the path is named once, by CRTokenFileError
		}
		return "", &CRTokenFileError{File: file, Err: err}
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", &CRTokenFileError{File: file}
	}
	return token, nil
}

func newTokenSource(grant func() (url.Values, error), tokenURL string, client *http.Client) *TokenSource {
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	if client == nil {
		client = &http.Client{Timeout: requestTimeout}
	}
	return &TokenSource{grant: grant, tokenURL: tokenURL, client: client, now: time.Now}
}

// Token returns a valid access token, from the cache while it is fresh. When renewal fails but the cached token
// has not expired yet, the cached token is returned, so a short IAM outage is not felt. Its errors match
// ErrNoToken.
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
			return "", noTokenError{res.Err}
		}
		return res.Val.(string), nil
	case <-ctx.Done():
		return "", noTokenError{fmt.Errorf("iam: waiting for a token: %w", ctx.Err())}
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

// noTokenError is an error of Token: it reads as the cause and matches ErrNoToken.
type noTokenError struct{ err error }

func (e noTokenError) Error() string        { return e.err.Error() }
func (e noTokenError) Unwrap() error        { return e.err }
func (e noTokenError) Is(target error) bool { return target == ErrNoToken }

func (s *TokenSource) fetch(ctx context.Context) (string, error) {
	form, err := s.grant()
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("iam: building token request for %s: %w", s.tokenURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	sent := s.now()
	resp, err := s.client.Do(req)
	if err != nil {
		// The URL error would name the request URL only; the credential travels in the body, never in the error.
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
