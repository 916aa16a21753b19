// Package browsercookie writes and reads the session stores' cookies with the attributes that DESIGN.md §4
// requires, and finds a cookie in a request without allocating, for every store of package session and its
// subpackages.
package browsercookie

import (
	"net/http"
	"strings"
	"time"
)

// DefaultName is the session cookie's name when the options leave it empty (session.DefaultCookieName).
const DefaultName = "appidgate_session"

// HostPrefix is the cookie name prefix that pins a cookie to the exact host over https.
const HostPrefix = "__Host-"

// Cookie writes and reads one family of session cookies with the attributes that DESIGN.md §4 requires:
// HttpOnly, SameSite=Lax, Path=/, no Domain, and Secure with the __Host- prefix on https.
type Cookie struct {
	Name   string // full name, with the __Host- prefix when secure
	secure bool
}

// New returns the cookie family called name (DefaultName when empty), with the __Host- prefix when secure.
func New(name string, secure bool) Cookie {
	if name == "" {
		name = DefaultName
	}
	if secure && !strings.HasPrefix(name, HostPrefix) {
		name = HostPrefix + name
	}
	return Cookie{Name: name, secure: secure}
}

// Set writes the cookie called name with value, kept by the browser until expiry.
func (b Cookie) Set(w http.ResponseWriter, name, value string, expiry, now time.Time) {
	// Round up so that the browser never drops the cookie before the sealed value expires.
	maxAge := int((expiry.Sub(now) + time.Second - 1) / time.Second)
	http.SetCookie(w, b.cookie(name, value, maxAge))
}

// Expire tells the browser to drop the cookie called name.
func (b Cookie) Expire(w http.ResponseWriter, name string) {
	http.SetCookie(w, b.cookie(name, "", -1)) // written as Max-Age=0
}

func (b Cookie) cookie(name, value string, maxAge int) *http.Cookie {
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

// Request returns the value of the first valid cookie called name that r carries, as r.Cookie(name)
// does, with net/http's checks (quotes stripped once, only the bytes RFC 6265 allows in a value), but without
// allocating a Cookie for every match: it is on the path of every request (see BenchmarkRequestCookie).
func Request(r *http.Request, name string) (string, bool) {
	return Find(r, name, true)
}

// Find is Request; without validate it returns the first cookie called name whatever its bytes,
// for session.CookieStore.CacheKey.
func Find(r *http.Request, name string, validate bool) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k != name {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if !validate || validCookieValue(v) {
				return v, true
			}
		}
	}
	return "", false
}

// Bytes allowed in a cookie value (RFC 6265 §4.1.1, with the space and comma that net/http also accepts): 0x20
// to 0x7e except '"', ';' and '\\', as a bit set over the 128 ASCII bytes.
const (
	cookieBytesLow  = 0xffffffff00000000 &^ (1<<'"' | 1<<';')
	cookieBytesHigh = (1<<63 - 1) &^ (1 << ('\\' - 64))
)

// validCookieValue reports whether every byte of v may appear in a cookie value.
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		b := v[i]
		mask := uint64(cookieBytesLow)
		if b >= 64 {
			mask = cookieBytesHigh
		}
		if b >= 128 || mask&(1<<(b&63)) == 0 {
			return false
		}
	}
	return true
}
