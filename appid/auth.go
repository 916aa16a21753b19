package appid

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/appidgate/appidgate/appid/iam"
	"github.com/appidgate/appidgate/appid/management"
	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/internal/audit"
	"github.com/appidgate/appidgate/internal/expiring"
	"github.com/appidgate/appidgate/internal/pages"
)

// Auth puts login, sessions and access policies in front of HTTP handlers. Build it with New; it is safe for
// concurrent use.
type Auth struct {
	cfg      Config
	log      *slog.Logger
	observer Observer
	audit    *audit.Logger // nil: no audit records
	tracer   trace.Tracer

	store session.Store
	pages *pages.Set // the pages people see: 403, failures, logout, signed out

	discovery *discovery
	keys      *keySet
	tokens    *tokenVerifier // verifies the provider's id and access tokens (token.go)

	roles     rolesSource
	iamTokens *iam.TokenSource // nil unless roles come from the management API
	// login runs the login flow (login.go, callback.go); bearer turns bearer tokens into users (bearer.go).
	login    *loginFlow
	sessions *sessions // reading, saving, refreshing and ending sessions (sessions.go, refresh.go)
	bearer   *bearerVerifier
	// backchannel receives the provider's logout tokens and remembers what they ended (backchannel.go).
	backchannel *backchannelLogout
	logout      *logout // serves /logout: a page, and the POST that ends the session (logout.go)

	callbackPath string
	origin       string   // scheme://host of RedirectURL: the app's public origin
	secure       bool     // RedirectURL is https: Secure cookies with the __Host- prefix
	provider     provider // what differs between App ID and other OpenID Connect providers
}

// rolesSource returns the role names of a user; nil when roles come from token claims.
type rolesSource func(ctx context.Context, userID string) ([]string, error)

// New checks cfg and returns an Auth; a refused cfg gives a *ConfigError naming every problem by Config field.
// It makes no network call and keeps no reference to ctx: provider metadata and keys are loaded on first use
// (or by Ready), with timeouts and retries, and cached.
func New(ctx context.Context, cfg Config) (*Auth, error) {
	if p := cfg.problems(fieldNames); len(p) > 0 {
		return nil, &ConfigError{Problems: p}
	}
	set, cerr := loadPages(cfg.TemplatesDir, "TemplatesDir")
	if cerr != nil {
		return nil, cerr
	}
	cfg = cfg.withDefaults()
	cfg.HTTPClient = noPostRedirects(cfg.HTTPClient) // once, here: ConfigFromLookup does not wrap it
	redirect, _ := url.Parse(cfg.RedirectURL)
	codec, err := session.NewCodec(cfg.SessionKeys...)
	if err != nil {
		return nil, fmt.Errorf("appid: session keys: %w", err)
	}
	a := &Auth{
		cfg:      cfg,
		log:      cfg.Logger,
		observer: cfg.Observer,
		audit:    audit.New(cfg.AuditLogger),
		tracer:   cfg.TracerProvider.Tracer(tracerName),
		store:    cfg.Store,
		pages:    set,

		callbackPath: redirect.Path,
		origin:       redirect.Scheme + "://" + redirect.Host,
		secure:       redirect.Scheme == "https",
	}
	a.provider = newProvider(a)
	a.discovery = &discovery{issuer: cfg.OAuthServerURL, client: cfg.HTTPClient, check: a.provider.checkMetadata}
	a.keys = &keySet{
		jwksURL: func(ctx context.Context) (string, error) {
			m, err := a.discovery.metadata(ctx)
			if err != nil {
				return "", err
			}
			return m.JWKSURI, nil
		},
		client: cfg.HTTPClient,
		now:    cfg.Now,
		log:    cfg.Logger,
	}
	a.tokens = newTokenVerifier(a)
	client := newClient(&a.cfg, a.provider)
	introspector := newIntrospector(a, client)
	a.bearer = newBearerVerifier(a, introspector)
	a.login = &loginFlow{a: a, client: client, codec: codec, usedStates: newUsedStates(maxUsedStates)}
	a.sessions = &sessions{
		a:                 a,
		client:            client,
		introspector:      introspector,
		recentRefreshes:   expiring.New[refreshOutcome](maxRecentRefreshes),
		verified:          expiring.New[*sessionState](maxVerifiedSessions),
		ended:             expiring.New[struct{}](maxEndedSessions),
		unknownKeyWarning: rate.Sometimes{Interval: unknownKeyWarningEvery},
	}
	if a.observer == nil {
		a.observer = nopObserver{}
	}
	if a.store == nil {
		a.store = session.NewCookieStore(codec, session.CookieOptions{Secure: a.secure, Now: cfg.Now})
	}
	if a.logout, err = newLogout(a, client); err != nil {
		return nil, err
	}
	a.sessions.cacheKeys, _ = a.store.(session.CacheKeyer)
	a.sessions.locker, _ = a.store.(session.SessionLocker)
	a.backchannel = newBackchannelLogout(a)
	return a, nil
}

// Router is where Mount registers appid's endpoints: *http.ServeMux, or any router whose Handle takes net/http's
// patterns with a method ("GET /logout"), such as chi's.
type Router interface {
	Handle(pattern string, handler http.Handler)
}

// Mount registers the callback (the path of RedirectURL) and /logout (GET shows a button, POST logs out) on mux.
// POST /logout takes an optional form field return_to, a same-origin path (anything else becomes "/"), and
// otherwise returns to PostLogoutPath. The provider's logout redirects back to the app's origin plus that path,
// and App ID only redirects to registered URLs: register every post-logout URL (e.g.
// https://app.example/noauth_route) with App ID as a redirect URI, or the provider's logout will refuse it.
// Unless Config.BackchannelLogoutPath is "off", it also registers POST /backchannel_logout (or that path), where
// the provider's logout tokens end the sessions they name (OpenID Connect Back-Channel Logout 1.0).
func (a *Auth) Mount(mux Router) {
	mux.Handle("GET "+a.callbackPath, http.HandlerFunc(a.login.handleCallback))
	mux.Handle("GET /logout", http.HandlerFunc(a.logout.page))
	mux.Handle("POST /logout", http.HandlerFunc(a.logout.handle))
	a.backchannel.mount(mux)
}

// Ready reports whether the provider metadata and signing keys are loaded, loading them when they are not. It
// suits a readiness probe.
func (a *Auth) Ready(ctx context.Context) error {
	if _, err := a.discovery.metadata(ctx); err != nil {
		return err
	}
	if !a.keys.loaded() {
		if err := a.keys.refresh(ctx, true); err != nil {
			return err
		}
	}
	return nil
}

// IAMReady reports whether an IAM access token for App ID's management API can be obtained, fetching one when
// none is cached; nil when roles do not come from the management API. A program using a trusted profile adds it
// to its readiness checks: the token file or the profile's trust can fail where an API key would not.
func (a *Auth) IAMReady(ctx context.Context) error {
	if a.iamTokens == nil {
		return nil
	}
	_, err := a.iamTokens.Token(ctx)
	return err
}

// nopObserver drops every event.
type nopObserver struct{}

func (nopObserver) LoginFinished(string)                {}
func (nopObserver) AuthorizationDecided(string, string) {}
func (nopObserver) RefreshFinished(string)              {}
func (nopObserver) SessionStoreError(string)            {}

// iamTokenSource is where the management API's IAM tokens come from: cfg's API key or, without one, its trusted
// profile; nil when cfg has neither.
func iamTokenSource(cfg Config) *iam.TokenSource {
	switch {
	case cfg.IBMCloudAPIKey != "":
		return iam.NewTokenSource(cfg.IBMCloudAPIKey, cfg.IAMTokenURL, cfg.HTTPClient)
	case cfg.IAMProfileID != "" || cfg.IAMProfileName != "":
		return iam.NewProfileTokenSource(iam.Profile{ID: cfg.IAMProfileID, Name: cfg.IAMProfileName,
			TokenFile: cfg.IAMCRTokenFile}, cfg.IAMTokenURL, cfg.HTTPClient)
	}
	return nil
}

// managementRoles reads a user's roles from App ID's management API, with IAM tokens from tokens.
func managementRoles(cfg Config, tokens *iam.TokenSource) func(ctx context.Context, userID string) ([]string, error) {
	mgmt := management.New(cfg.ManagementURL, tokens, cfg.HTTPClient)
	return func(ctx context.Context, userID string) ([]string, error) {
		roles, err := mgmt.UserRoles(ctx, userID)
		if err != nil {
			return nil, err
		}
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = r.Name
		}
		return names, nil
	}
}
