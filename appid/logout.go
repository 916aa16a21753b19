package appid

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// revokeTimeout bounds the best-effort refresh-token revocation at logout: the user should not wait on it.
const revokeTimeout = 3 * time.Second

// handleLogoutPage shows a one-button page that posts to /logout: logging out changes state, so it takes a POST
// that other sites cannot forge.
func (a *Auth) handleLogoutPage(w http.ResponseWriter, r *http.Request) {
	respondHTMLWithCSP(w, http.StatusOK, logoutPageCSP, "Log out", `<form method="post" action="/logout">`+
		`<button type="submit">Log out</button></form>`)
}

// maxLogoutForm bounds the body of POST /logout, which holds at most a return_to path.
const maxLogoutForm = 4 << 10

// handleLogout ends the session, revokes its refresh token (best effort), and sends the browser to the
// provider's logout (App ID's SSO logout, or a listed end_session_endpoint), which returns to the form's
// return_to (a same-origin path, sanitized like the login's return-to) or else PostLogoutPath.
func (a *Auth) handleLogout(w http.ResponseWriter, r *http.Request) {
	if a.crossOrigin.Check(r) != nil {
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
	var refreshToken, idToken string
	if data, err := a.store.Load(r); err == nil {
		if st, err := decodeSession(data); err == nil {
			refreshToken, idToken = st.refreshToken, st.idToken
			// Copies of the session's cookie stop working here at once, elsewhere at their next revalidation.
			a.endSession(st, a.cfg.Now())
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
		// The local session is gone; without the provider, the provider's own logout must wait.
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	if refreshToken != "" && meta.RevocationEndpoint != "" {
		a.revoke(ctx, meta, refreshToken)
	}
	if provider := a.providerLogoutURL(meta, idToken, a.origin+target); provider != "" {
		target = provider
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// revoke asks the provider to revoke token (RFC 7009), authenticated as the endpoint takes it; failures are
// logged only.
func (a *Auth) revoke(ctx context.Context, meta *providerMetadata, token string) {
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
	resp, err := a.postClientForm(ctx, meta.RevocationEndpoint, meta.RevocationAuthMethods, form)
	if err != nil {
		a.log.InfoContext(ctx, "appid: revoking the refresh token failed", "error", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		a.log.InfoContext(ctx, "appid: revoking the refresh token failed", "status", resp.StatusCode)
	}
}
