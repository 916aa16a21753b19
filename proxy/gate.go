package proxy

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/answer"
	"github.com/appidgate/appidgate/internal/audit"
	"github.com/appidgate/appidgate/internal/logging"
	"github.com/appidgate/appidgate/internal/pages"
	"github.com/appidgate/appidgate/proxy/assertion"
)

// gate is what Proxy and ForwardAuth share: the routes, the decision through appid, the identity headers and
// the signed assertion of an admitted request, and the short answers both write themselves.
type gate struct {
	answers
	auth      *appid.Auth
	routes    *Routes     // the routes, unless live is set
	live      *LiveRoutes // the routes in force, read once per request
	identity  IdentityHeaders
	assertion *AssertionSigner
	log       *slog.Logger
	name      string // "proxy" or "proxy: forward-auth", the start of log messages
	label     string // "proxy " or "forward-auth ", the start of the metrics label (http.Request.Pattern)
}

// newGate returns the gate of cfg, its problems already checked (see Config.checkShared).
func newGate(cfg Config, set *pages.Set, name, label string) gate {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return gate{answers: answers{pages: set, log: log}, auth: cfg.Auth, routes: cfg.Routes, live: cfg.LiveRoutes,
		identity:  cfg.Identity,
		assertion: cfg.Assertion, log: log, name: name, label: label}
}

// admit finds the rule for method and cleanPath (naming it in r.Pattern, the metrics label) and, unless it is
// public, decides the request by the rule's policy: by its bearer token when the rule accepts tokens and the
// request has one, else by its session (writing a renewed session's cookie to w). The user is nil on public
// routes; with appid.ErrForbidden it is the user refused.
func (g *gate) admit(w http.ResponseWriter, r *http.Request, method, cleanPath string) (Rule, *appid.User, error) {
	routes := g.routes
	if g.live != nil {
		routes = g.live.Routes() // once: the whole request is decided by the routes in force now
	}
	rule := routes.Match(method, cleanPath)
	r.Pattern = g.label + rule.Pattern // the rule, never the raw path
	if rule.Public {
		return rule, nil, nil
	}
	r = audit.WithTarget(r, method, cleanPath) // a refusal's audit record names the request decided
	if rule.Bearer {
		user, err := g.auth.AuthorizeBearerOrSession(w, r, rule.Policy)
		return rule, user, err
	}
	user, err := g.auth.Authorize(w, r, rule.Policy)
	return rule, user, err
}

// stamp sets user's identity headers on h, and the assertion bound to method and path (the ones the upstream
// sees).
func (g *gate) stamp(ctx context.Context, h http.Header, user *appid.User, method, path string) {
	g.identity.Set(h, user, user.AccessToken())
	if g.assertion == nil {
		return
	}
	if token, err := g.assertion.Sign(user, method, path); err == nil {
		h[assertion.Header] = []string{token}
	} else {
		g.log.ErrorContext(ctx, g.name+": signing the identity assertion failed", "error", err)
	}
}

// answers writes the proxy's own short answers: JSON for APIs and API clients, else a page of the shared style.
type answers struct {
	pages *pages.Set
	log   *slog.Logger
}

// respond writes a short error answer: JSON for APIs and clients that do not ask for a page, else an HTML page
// naming what failed, with a link to try again (for a failure of a page request) and the request id of the log
// line. The JSON's error code is title in lower case with "_" for spaces.
func (a answers) respond(w http.ResponseWriter, r *http.Request, api bool, status int, title, detail string) {
	if api || !answer.AcceptsHTML(r) {
		answer.JSON(w, status, strings.ToLower(strings.ReplaceAll(title, " ", "_")), detail)
		return
	}
	data := pages.Error{Status: status, Title: title, Message: detail, RequestID: logging.RequestID(r.Context())}
	if status >= 500 && r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/.appidgate/") {
		// A page request that failed (not a forward-auth check, whose URL is not the browser's): the same page.
		data.RetryURL = r.URL.RequestURI()
	}
	if err := a.pages.Write(w, status, "default-src 'none'; frame-ancestors 'none'", data); err != nil {
		a.log.ErrorContext(r.Context(), "proxy: rendering a page failed", "error", err)
	}
}
