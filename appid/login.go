package appid

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

const (
	// pendingLoginTTL is how long a started login may take to come back to the callback.
	pendingLoginTTL = 10 * time.Minute
	// maxPendingLogins is how many logins (browser tabs) may be in progress at once for one browser.
	maxPendingLogins = 4
	loginCookieName  = "appidgate_login"
	loginPurpose     = "login"
)

// pendingLogin is one login in progress: the values the callback must see again.
type pendingLogin struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	ReturnTo string `json:"r"`
	Started  int64  `json:"t"` // unix seconds
}

// startLogin sends the browser to the provider's authorization endpoint, remembering the login in the
// pending-login cookie.
func (a *Auth) startLogin(w http.ResponseWriter, r *http.Request) {
	meta, err := a.discovery.metadata(r.Context())
	if err != nil {
		a.log.WarnContext(r.Context(), "appid: login cannot start", "error", err)
		a.respondError(w, r, http.StatusServiceUnavailable, "Could not reach the identity provider",
			"The login service is unavailable at the moment. Please try again shortly.")
		return
	}
	now := a.cfg.Now()
	p := pendingLogin{
		State:    randomToken(),
		Nonce:    randomToken(),
		Verifier: oauth2.GenerateVerifier(),
		ReturnTo: sanitizeReturnTo(r.URL.RequestURI()),
		Started:  now.Unix(),
	}
	pending := append(a.pendingLogins(r, now), p)
	if len(pending) > maxPendingLogins {
		pending = pending[len(pending)-maxPendingLogins:]
	}
	if err := a.writePendingLogins(w, pending, now); err != nil {
		a.log.ErrorContext(r.Context(), "appid: cannot seal login state", "error", err)
		a.respondError(w, r, http.StatusInternalServerError, "Could not start the login", "Please try again.")
		return
	}
	target := a.oauth2Config(meta).AuthCodeURL(p.State, oauth2.S256ChallengeOption(p.Verifier),
		oauth2.SetAuthURLParam("nonce", p.Nonce))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// oauth2Config describes the client to golang.org/x/oauth2, with HTTP Basic client authentication.
func (a *Auth) oauth2Config(meta *providerMetadata) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     a.cfg.ClientID,
		ClientSecret: a.cfg.ClientSecret,
		RedirectURL:  a.cfg.RedirectURL,
		Scopes:       a.cfg.Scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   meta.AuthorizationEndpoint,
			TokenURL:  meta.TokenEndpoint,
			AuthStyle: oauth2.AuthStyleInHeader,
		},
	}
}

// pendingLogins returns the unexpired logins in progress that the request's cookie holds.
func (a *Auth) pendingLogins(r *http.Request, now time.Time) []pendingLogin {
	c, err := r.Cookie(a.loginCookieName())
	if err != nil {
		return nil
	}
	plain, err := a.codec.Open(loginPurpose, c.Value, now)
	if err != nil {
		return nil
	}
	var all []pendingLogin
	if json.Unmarshal(plain, &all) != nil {
		return nil
	}
	live := all[:0]
	for _, p := range all {
		if now.Sub(time.Unix(p.Started, 0)) < pendingLoginTTL {
			live = append(live, p)
		}
	}
	return live
}

// takePendingLogin removes the login with state from the cookie and returns it; each login is used once.
func (a *Auth) takePendingLogin(w http.ResponseWriter, r *http.Request, state string, now time.Time) (pendingLogin, error) {
	pending := a.pendingLogins(r, now)
	for i, p := range pending {
		if p.State != state {
			continue
		}
		rest := append(pending[:i:i], pending[i+1:]...)
		if err := a.writePendingLogins(w, rest, now); err != nil {
			return pendingLogin{}, err
		}
		return p, nil
	}
	return pendingLogin{}, errors.New("appid: no login in progress with this state")
}

// writePendingLogins replaces the pending-login cookie, or removes it when nothing is pending.
func (a *Auth) writePendingLogins(w http.ResponseWriter, pending []pendingLogin, now time.Time) error {
	c := &http.Cookie{
		Name:     a.loginCookieName(),
		Path:     "/",
		HttpOnly: true,
		Secure:   a.secure,
		SameSite: http.SameSiteLaxMode, // Lax: the callback is a top-level navigation from the provider's site
	}
	if len(pending) == 0 {
		c.MaxAge = -1
		http.SetCookie(w, c)
		return nil
	}
	plain, err := json.Marshal(pending)
	if err != nil {
		return err
	}
	expiry := now.Add(pendingLoginTTL)
	sealed, err := a.codec.Seal(loginPurpose, plain, expiry)
	if err != nil {
		return err
	}
	c.Value = sealed
	c.MaxAge = int(pendingLoginTTL / time.Second)
	http.SetCookie(w, c)
	return nil
}

func (a *Auth) loginCookieName() string {
	if a.secure {
		return "__Host-" + loginCookieName
	}
	return loginCookieName
}

// randomToken returns about 256 random bits as base32 text, for state and nonce values.
func randomToken() string {
	return rand.Text() + rand.Text()
}
