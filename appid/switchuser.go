package appid

import (
	"net/http"
	"time"
)

// Signing in as someone else, from the 403 page. The page's form logs out (POST /logout) and asks to come back
// to the callback: of the app's addresses, it is the one that every provider's logout may return to, since it is
// registered already, as App ID requires of every post-logout URL. Reached again with no parameters at all, the
// callback starts a new login, back to the refused page, which the 403 answer remembered in a short-lived cookie.
const (
	nextCookieName = "appidgate_next"
	nextPurpose    = "next"
	nextTTL        = pendingLoginTTL
)

// nextCookie is the name of the cookie that remembers the refused page: with __Host- on https.
func (f *loginFlow) nextCookie() string {
	if f.a.secure {
		return "__Host-" + nextCookieName
	}
	return nextCookieName
}

// rememberRefused keeps the refused request's path for the login that follows a "sign in as someone else".
func (f *loginFlow) rememberRefused(w http.ResponseWriter, r *http.Request) {
	a := f.a
	if r.Method != http.MethodGet {
		return
	}
	now := a.cfg.Now()
	sealed, err := f.codec.Seal(nextPurpose, []byte(sanitizeReturnTo(r.URL.RequestURI())), now.Add(nextTTL))
	if err != nil {
		return
	}
	c := f.loginCookie(f.nextCookie())
	c.Value = sealed
	c.MaxAge = int(nextTTL / time.Second)
	http.SetCookie(w, c)
}

// signInAgain answers a callback request without parameters, the return from the logout that the 403 page's
// "sign in as someone else" started: it starts a login back to the remembered page, or to "/".
func (f *loginFlow) signInAgain(w http.ResponseWriter, r *http.Request) {
	a := f.a
	next := "/"
	if c, err := r.Cookie(f.nextCookie()); err == nil {
		if path, err := f.codec.Open(nextPurpose, c.Value, a.cfg.Now()); err == nil {
			next = sanitizeReturnTo(string(path))
		}
		f.expireLoginCookie(w, c.Name)
	}
	f.startLogin(w, r, next)
}
