package appid

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/appidgate/appidgate/internal/audit"
	"github.com/appidgate/appidgate/internal/pages"
)

// revokeTimeout bounds the best-effort refresh-token revocation at logout: the user should not wait on it.
const revokeTimeout = 3 * time.Second

// logout is the app's /logout: a page with a logout button, and the POST that ends the session, revokes its
// refresh token and sends the browser on to the provider's logout.
type logout struct {
	a           *Auth                       // its pages, store, sessions, provider and logs
	client      *client                     // revokes refresh tokens
	crossOrigin *http.CrossOriginProtection // refuses logouts posted from other sites
}

// newLogout returns the logout of a, whose origin is set, revoking as c.
func newLogout(a *Auth, c *client) (*logout, error) {
	// Requests from the app's public origin are its own, even when they reach it under another host name
	// (an instance's own address behind a load balancer).
	crossOrigin := http.NewCrossOriginProtection()
	if err := crossOrigin.AddTrustedOrigin(a.origin); err != nil {
		return nil, fmt.Errorf("appid: the redirect URL's origin %q: %w", a.origin, err)
	}
	return &logout{a: a, client: c, crossOrigin: crossOrigin}, nil
}

// page shows a signed-in user a one-button page that posts to /logout: logging out changes state, so
// it takes a POST that other sites cannot forge. An optional return_to (a same-origin path) is posted along.
// Without a session it shows the signed-out page instead, which is where a logout ends when the provider's own
// logout could not be asked for (provider_session=kept): then the provider may still sign the user in again.
func (l *logout) page(w http.ResponseWriter, r *http.Request) {
	a := l.a
	q := r.URL.Query()
	var returnTo string
	if rt := q.Get("return_to"); rt != "" {
		returnTo = sanitizeReturnTo(rt)
	}
	st, err := a.sessions.readSession(r, a.cfg.Now())
	if err == nil && st == nil {
		a.writePage(w, r, http.StatusOK, pageCSP, pages.SignedOut{SignInURL: "/", ContinueURL: returnTo,
			ProviderSessionKept: q.Get("provider_session") == "kept"})
		return
	}
	data := pages.Logout{Action: "/logout", ReturnTo: returnTo, CancelURL: "/"}
	if st != nil {
		data.User = pageUser(&st.user)
	}
	a.writePage(w, r, http.StatusOK, logoutPageCSP, data)
}

// signedOutPage is the address of the signed-out page for a logout that could not reach the provider's logout,
// with target, where the logout was to return, as its way on.
func signedOutPage(target string) string {
	q := url.Values{"provider_session": {"kept"}}
	if target != "/" {
		q.Set("return_to", target)
	}
	return "/logout?" + q.Encode()
}

// maxLogoutForm bounds the body of POST /logout, which holds at most a return_to path.
const maxLogoutForm = 4 << 10

// handle ends the session, revokes its refresh token (best effort), and sends the browser to the
// provider's logout (App ID's SSO logout, or a listed end_session_endpoint), which returns to the form's
// return_to (a same-origin path, sanitized like the login's return-to) or else PostLogoutPath.
func (l *logout) handle(w http.ResponseWriter, r *http.Request) {
	a := l.a
	if l.crossOrigin.Check(r) != nil {
		a.respondError(w, r, http.StatusForbidden, "Logout refused", "The logout request came from another site.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLogoutForm)
	if err := r.ParseForm(); err != nil {
		a.respondError(w, r, http.StatusBadRequest, "Logout refused", "The logout form could not be read.")
		return
	}
	target := a.cfg.PostLogoutPath
	if returnTo := r.PostForm.Get("return_to"); returnTo != "" {
		target = sanitizeReturnTo(returnTo)
	}
	var refreshToken, idToken, userID string
	if data, err := a.store.Load(r); err == nil {
		if st, err := decodeSession(data); err == nil {
			refreshToken, idToken, userID = st.refreshToken, st.idToken, st.user.ID
			// Copies of the session's cookie stop working here at once, elsewhere at their next revalidation.
			a.sessions.endSession(st, a.cfg.Now())
		}
	}
	if err := a.store.Delete(w, r); err != nil {
		a.observer.SessionStoreError("delete")
		a.log.ErrorContext(r.Context(), "appid: deleting the session failed", "error", err)
		a.respondError(w, r, http.StatusServiceUnavailable, "Could not end the session",
			"The session store is unavailable at the moment. Please try again shortly.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), revokeTimeout)
	defer cancel()
	meta, err := a.discovery.metadata(ctx)
	if err != nil {
		// The local session is gone; without the provider, the provider's own logout must wait: say so.
		a.audit.Write(r, logoutRecord(userID, "local", "provider_unreachable"))
		http.Redirect(w, r, signedOutPage(target), http.StatusSeeOther)
		return
	}
	if refreshToken != "" && meta.RevocationEndpoint != "" {
		l.revoke(ctx, meta, refreshToken)
	}
	if provider := a.provider.logoutURL(meta, idToken, a.origin+target); provider != "" {
		target = provider
		a.audit.Write(r, logoutRecord(userID, "provider", ""))
	} else {
		target = signedOutPage(target) // a provider without a logout of its own: its session lives on
		a.audit.Write(r, logoutRecord(userID, "local", "no_provider_logout"))
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// logoutRecord is the audit record of a logout that ended the session of userID ("" when the request had
// none): scope "provider" when the browser goes on to the provider's logout, "local" when the provider's session
// is kept, for reason.
func logoutRecord(userID, scope, reason string) audit.Record {
	return audit.Record{Event: audit.Logout, Outcome: audit.Success, UserID: userID, Reason: reason,
		Attrs: []slog.Attr{slog.String("logout_scope", scope)}}
}

// revoke asks the provider to revoke token (RFC 7009), authenticated as the endpoint takes it; failures are
// logged only.
func (l *logout) revoke(ctx context.Context, meta *providerMetadata, token string) {
	a := l.a
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
	resp, err := l.client.postForm(ctx, meta.RevocationEndpoint, meta.RevocationAuthMethods, form)
	if err != nil {
		a.log.InfoContext(ctx, "appid: revoking the refresh token failed", "error", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		a.log.InfoContext(ctx, "appid: revoking the refresh token failed", "status", resp.StatusCode)
	}
}
