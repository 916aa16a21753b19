package session

import (
	"net/http"
	"strings"
	"time"
)

// DefaultCookieName is the session cookie's name when the options leave it empty. On https the name gets the
// "__Host-" prefix, which browsers honour only for Secure, Path=/ cookies without a Domain, so that no subdomain
// and no http page can plant or overwrite the session.
const DefaultCookieName = "appidgate_session"

// hostPrefix is the cookie name prefix that pins a cookie to the exact host over https.
const hostPrefix = "__Host-"

// browserCookie writes and reads one family of session cookies with the attributes that DESIGN.md §4 requires:
// HttpOnly, SameSite=Lax, Path=/, no Domain, and Secure with the __Host- prefix on https.
type browserCookie struct {
	name   string // full name, with the __Host- prefix when secure
	secure bool
}

func newBrowserCookie(name string, secure bool) browserCookie {
	if name == "" {
		name = DefaultCookieName
	}
	if secure && !strings.HasPrefix(name, hostPrefix) {
		name = hostPrefix + name
	}
	return browserCookie{name: name, secure: secure}
}

// set writes the cookie called name with value, kept by the browser until expiry.
func (b browserCookie) set(w http.ResponseWriter, name, value string, expiry, now time.Time) {
	// Round up so that the browser never drops the cookie before the sealed value expires.
	maxAge := int((expiry.Sub(now) + time.Second - 1) / time.Second)
	http.SetCookie(w, b.cookie(name, value, maxAge))
}

// expire tells the browser to drop the cookie called name.
func (b browserCookie) expire(w http.ResponseWriter, name string) {
	http.SetCookie(w, b.cookie(name, "", -1)) // written as Max-Age=0
}

func (b browserCookie) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   b.secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// requestCookie returns the value of the first cookie called name that r carries, without building every cookie
// of the request as r.Cookies does: it is on the path of every request.
func requestCookie(r *http.Request, name string) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != name {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}
