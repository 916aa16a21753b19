// Package zitadeltest runs the example OpenID Provider of github.com/zitadel/oidc/v3 (an OpenID-certified
// library) in-process on a loopback port, as a third-party provider for tests: its own login form, users,
// storage and endpoints, with a client registered for the relying party under test.
package zitadeltest

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The example provider's users (storage.NewUserStore) and the client the fixture registers.
const (
	// UserPrefix starts the user name of the example's first user, an administrator: UserPrefix + the issuer's
	// host (see Provider.Username).
	UserPrefix = "test-user@"
	// User2 is the user name of the example's second user.
	User2 = "test-user2"
	// Password is the password of both users.
	Password = "verysecure"
	// UserID and User2ID are their subjects.
	UserID  = "id1"
	User2ID = "id2"
	// UserEmail and UserName are the first user's email and name, as userinfo reports them.
	UserEmail = "test-user@zitadel.ch"
	UserName  = "Test User"

	// ClientID and ClientSecret are the web client (client_secret_basic) the fixture registers.
	ClientID     = "appidgate"
	ClientSecret = "appidgate-secret"

	// CustomScope makes the example assert its custom claim, CustomClaim, {"client": <client id>, "other":
	// "stuff"}, in id tokens, userinfo, introspection and JWT access tokens.
	CustomScope = storage.CustomScope
	CustomClaim = storage.CustomClaim
)

// Where names the answers of the provider that carry Options.Groups.
type Where int

// The answers that can carry the groups claim.
const (
	InUserinfo Where = 1 << iota
	InAccessToken
	InIntrospection
)

// Options configure the provider.
type Options struct {
	// RedirectURIs are the client's registered redirect URIs; PostLogoutRedirectURIs are where its logout may
	// return (the example client registers none itself).
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// JWTAccessTokens makes the provider issue JWT access tokens to the client instead of its default opaque
	// ones.
	JWTAccessTokens bool
	// Groups, by user id, are asserted as a "groups" claim in the answers GroupsIn names.
	Groups   map[string][]string
	GroupsIn Where
	// Wrap, when set, wraps the provider's handler, so that a test can change what it answers.
	Wrap func(http.Handler) http.Handler
}

// Provider is the running example provider.
type Provider struct {
	// Issuer is its issuer, with the trailing slash the example publishes: http://127.0.0.1:<port>/.
	Issuer string
	// Username is the first user's user name (UserPrefix + host).
	Username string

	mu     sync.Mutex
	tokens []TokenResponse
}

// TokenResponse is one answer of the token endpoint.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	ExpiresIn    int64  `json:"expires_in"`
}

// Start runs the provider on a free loopback port until the test ends.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("zitadeltest: %v", err)
	}
	p := &Provider{Issuer: "http://" + ln.Addr().String() + "/"}
	p.Username = UserPrefix + "127.0.0.1"

	clients := map[string]*storage.Client{
		ClientID: storage.WebClient(ClientID, ClientSecret, opts.RedirectURIs...),
	}
	store := &extendedStorage{
		Storage: storage.NewStorageWithClients(storage.NewUserStore(p.Issuer), clients),
		opts:    opts,
	}
	var h http.Handler = exampleop.SetupServer(p.Issuer, store, nil, false)
	h = p.record(h)
	if opts.Wrap != nil {
		h = opts.Wrap(h)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// Tokens returns the token endpoint's answers so far, oldest first.
func (p *Provider) Tokens() []TokenResponse {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]TokenResponse(nil), p.tokens...)
}

// record keeps the token endpoint's answers.
func (p *Provider) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var tok TokenResponse
		if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &tok) == nil {
			p.mu.Lock()
			p.tokens = append(p.tokens, tok)
			p.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// extendedStorage is the example's in-memory storage with what a provider's operator would configure: the
// client's post-logout redirect URIs, its access token type, and a groups claim.
type extendedStorage struct {
	*storage.Storage
	opts Options
}

// GetClientByClientID implements op.Storage.
func (s *extendedStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return configuredClient{Client: c, opts: s.opts}, nil
}

// SetUserinfoFromToken implements op.Storage: the userinfo endpoint's answer.
func (s *extendedStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	if g, ok := s.groups(info.Subject, InUserinfo); ok {
		info.AppendClaims("groups", g)
	}
	return nil
}

// SetIntrospectionFromToken implements op.Storage: the introspection endpoint's answer.
func (s *extendedStorage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	if err := s.Storage.SetIntrospectionFromToken(ctx, resp, tokenID, subject, clientID); err != nil {
		return err
	}
	if g, ok := s.groups(resp.Subject, InIntrospection); ok {
		if resp.Claims == nil {
			resp.Claims = map[string]any{}
		}
		resp.Claims["groups"] = g
	}
	return nil
}

// GetPrivateClaimsFromScopes implements op.Storage: the private claims of JWT access tokens.
func (s *extendedStorage) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	claims, err := s.Storage.GetPrivateClaimsFromScopes(ctx, userID, clientID, scopes)
	if err != nil {
		return nil, err
	}
	if g, ok := s.groups(userID, InAccessToken); ok {
		if claims == nil {
			claims = map[string]any{}
		}
		claims["groups"] = g
	}
	return claims, nil
}

func (s *extendedStorage) groups(userID string, where Where) ([]string, bool) {
	g, ok := s.opts.Groups[userID]
	return g, ok && s.opts.GroupsIn&where != 0
}

// configuredClient is the example's web client with the registrations the example cannot make.
type configuredClient struct {
	op.Client
	opts Options
}

// PostLogoutRedirectURIs implements op.Client.
func (c configuredClient) PostLogoutRedirectURIs() []string { return c.opts.PostLogoutRedirectURIs }

// AccessTokenType implements op.Client.
func (c configuredClient) AccessTokenType() op.AccessTokenType {
	if c.opts.JWTAccessTokens {
		return op.AccessTokenTypeJWT
	}
	return op.AccessTokenTypeBearer
}

var (
	formAction = regexp.MustCompile(`<form[^>]*\saction="([^"]+)"`)
	requestID  = regexp.MustCompile(`<input type="hidden" name="id" value="([^"]*)"`)
)

// LoginRequest returns the POST that submits the example's login form in page (the HTML served at pageURL),
// signing in as username with password.
func LoginRequest(page string, pageURL *url.URL, username, password string) (*http.Request, error) {
	action, id := formAction.FindStringSubmatch(page), requestID.FindStringSubmatch(page)
	if action == nil || id == nil {
		return nil, fmt.Errorf("zitadeltest: no login form in the page at %s", pageURL)
	}
	target, err := pageURL.Parse(html.UnescapeString(action[1]))
	if err != nil {
		return nil, fmt.Errorf("zitadeltest: form action %q: %w", action[1], err)
	}
	form := url.Values{"id": {html.UnescapeString(id[1])}, "username": {username}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("zitadeltest: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}
