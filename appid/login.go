package appid

import (
	"cmp"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/appid/session"
)

const (
	// pendingLoginTTL is how long a started login may take to come back to the callback.
	pendingLoginTTL = 10 * time.Minute
	// maxPendingLogins is how many logins (browser tabs) may be in progress at once for one browser.
	maxPendingLogins = 4
	// loginCookieName starts the name of each pending-login cookie; the rest of the name comes from the state.
	loginCookieName = "appidgate_login"
	loginPurpose    = "login"
	// loginKeyLen is how much of the state names a login's cookie: enough to tell tabs apart.
	loginKeyLen = 16
)

// loginFlow is the login: it sends the browser to the provider with state, nonce and PKCE kept in a sealed
// pending-login cookie, and on the callback redeems the state once, exchanges the code, starts the session and
// returns to the page the user asked for.
type loginFlow struct {
	a          *Auth
	client     *client        // the authorization request and the code's exchange
	codec      *session.Codec // seals the pending-login and next-page cookies
	usedStates *usedStates    // states redeemed here, refused a second time
}

// pendingLogin is one login in progress: the values the callback must see again.
type pendingLogin struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	ReturnTo string `json:"r"`
	Started  int64  `json:"t"` // unix seconds
}

// startLogin sends the browser to the provider's authorization endpoint, to come back to returnTo (sanitized:
// a same-origin path), remembering the login in a
// pending-login cookie of its own, so that logins started in several tabs at once never overwrite each other.
func (f *loginFlow) startLogin(w http.ResponseWriter, r *http.Request, returnTo string) {
	a := f.a
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
		ReturnTo: sanitizeReturnTo(returnTo),
		Started:  now.Unix(),
	}
	f.prunePendingLogins(w, r, now)
	if err := f.writePendingLogin(w, p, now); err != nil {
		a.log.ErrorContext(r.Context(), "appid: cannot seal login state", "error", err)
		a.respondError(w, r, http.StatusInternalServerError, "Could not start the login", "Please try again.")
		return
	}
	target := f.client.oauth2Config(meta).AuthCodeURL(p.State, append(f.authParams(), oauth2.S256ChallengeOption(p.Verifier),
		oauth2.SetAuthURLParam("nonce", p.Nonce))...)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// prunePendingLogins expires the request's pending-login cookies that are unreadable or expired, and the
// oldest ones beyond maxPendingLogins-1, making room for one more without letting cookies pile up.
func (f *loginFlow) prunePendingLogins(w http.ResponseWriter, r *http.Request, now time.Time) {
	type found struct {
		name    string
		started int64
	}
	var live []found
	prefix := f.loginCookiePrefix()
	for _, c := range r.Cookies() {
		key, ok := strings.CutPrefix(c.Name, prefix)
		if !ok {
			continue
		}
		if p, err := f.openPendingLogin(key, c.Value, now); err == nil {
			live = append(live, found{c.Name, p.Started})
			continue
		}
		f.expireLoginCookie(w, c.Name)
	}
	if excess := len(live) - (maxPendingLogins - 1); excess > 0 {
		slices.SortFunc(live, func(x, y found) int { return cmp.Compare(x.started, y.started) })
		for _, l := range live[:excess] {
			f.expireLoginCookie(w, l.name)
		}
	}
}

// takePendingLogin returns the login with state and expires its cookie: each login is used once.
func (f *loginFlow) takePendingLogin(w http.ResponseWriter, r *http.Request, state string, now time.Time) (pendingLogin, error) {
	key := loginKey(state)
	name := f.loginCookiePrefix() + key
	c, err := r.Cookie(name)
	if err != nil {
		return pendingLogin{}, errors.New("appid: no login in progress with this state")
	}
	f.expireLoginCookie(w, name)
	p, err := f.openPendingLogin(key, c.Value, now)
	if err != nil {
		return pendingLogin{}, err
	}
	if subtle.ConstantTimeCompare([]byte(p.State), []byte(state)) != 1 {
		return pendingLogin{}, errors.New("appid: the login in progress has another state")
	}
	return p, nil
}

// openPendingLogin unseals the pending login kept under key; the key is part of the sealing purpose, so a
// cookie cannot be renamed to answer for another login.
func (f *loginFlow) openPendingLogin(key, sealed string, now time.Time) (pendingLogin, error) {
	plain, err := f.codec.Open(loginPurpose+":"+key, sealed, now)
	if err != nil {
		return pendingLogin{}, err
	}
	var p pendingLogin
	if err := json.Unmarshal(plain, &p); err != nil {
		return pendingLogin{}, fmt.Errorf("appid: decoding the login in progress: %w", err)
	}
	if now.Sub(time.Unix(p.Started, 0)) >= pendingLoginTTL {
		return pendingLogin{}, errors.New("appid: the login in progress has expired")
	}
	return p, nil
}

// writePendingLogin sets the cookie that remembers p until the callback.
func (f *loginFlow) writePendingLogin(w http.ResponseWriter, p pendingLogin, now time.Time) error {
	plain, err := json.Marshal(p)
	if err != nil {
		return err
	}
	key := loginKey(p.State)
	sealed, err := f.codec.Seal(loginPurpose+":"+key, plain, now.Add(pendingLoginTTL))
	if err != nil {
		return err
	}
	c := f.loginCookie(f.loginCookiePrefix() + key)
	c.Value = sealed
	c.MaxAge = int(pendingLoginTTL / time.Second)
	http.SetCookie(w, c)
	return nil
}

func (f *loginFlow) expireLoginCookie(w http.ResponseWriter, name string) {
	c := f.loginCookie(name)
	c.MaxAge = -1
	http.SetCookie(w, c)
}

func (f *loginFlow) loginCookie(name string) *http.Cookie {
	a := f.a
	return &http.Cookie{
		Name:     name,
		Path:     "/",
		HttpOnly: true,
		Secure:   a.secure,
		SameSite: http.SameSiteLaxMode, // Lax: the callback is a top-level navigation from the provider's site
	}
}

// loginCookiePrefix starts every pending-login cookie's name: "appidgate_login." (with __Host- on https).
func (f *loginFlow) loginCookiePrefix() string {
	a := f.a
	if a.secure {
		return "__Host-" + loginCookieName + "."
	}
	return loginCookieName + "."
}

// loginKey is the part of a state that names its login's cookie.
func loginKey(state string) string {
	if len(state) > loginKeyLen {
		return state[:loginKeyLen]
	}
	return state
}

// randomToken returns about 256 random bits as base32 text, for state and nonce values.
func randomToken() string {
	return rand.Text() + rand.Text()
}

// authParams are Config.AuthParams as options of the authorization request.
func (f *loginFlow) authParams() []oauth2.AuthCodeOption {
	var opts []oauth2.AuthCodeOption
	for k, v := range f.a.cfg.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v[0]))
	}
	return opts
}
