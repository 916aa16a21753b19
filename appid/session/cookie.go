package session

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/appidgate/appidgate/appid/session/internal/browsercookie"
)

// DefaultCookieName is the session cookie's name when the options leave it empty. On https the name gets the
// "__Host-" prefix, which browsers honour only for Secure, Path=/ cookies without a Domain, so that no subdomain
// and no http page can plant or overwrite the session.
const DefaultCookieName = browsercookie.DefaultName

const (
	// chunkSize is the most sealed characters one cookie holds; with name and attributes a cookie stays
	// under the 4096 bytes that browsers guarantee.
	chunkSize = 3800
	// maxChunks bounds a session at about 38 KB of cookies, below common request header limits.
	maxChunks = 10
	// chunkCountSep ends the chunk count that the first cookie of a split session starts with.
	// It is not in the base64url alphabet, so an unsplit value never contains it.
	chunkCountSep = '.'
)

// CookieOptions configures a CookieStore.
type CookieOptions struct {
	// Name is the session cookie's name (a valid cookie token), DefaultCookieName when empty. With Secure the
	// store prepends "__Host-". Large sessions also use "<name>.1", "<name>.2", ...
	Name string
	// Secure marks the cookies Secure and adds the __Host- prefix. Set it whenever the app is served over https.
	Secure bool
	// Now is the clock, time.Now when nil.
	Now func() time.Time
}

// CookieStore is a Store that keeps the whole session, sealed by a Codec, in the browser's cookies, so that any
// replica can serve any user without shared state. A session too large for one cookie is split across several.
type CookieStore struct {
	codec   *Codec
	cookie  browsercookie.Cookie
	purpose string
	now     func() time.Time
}

// NewCookieStore returns a CookieStore that seals sessions with codec.
func NewCookieStore(codec *Codec, opts CookieOptions) *CookieStore {
	c := browsercookie.New(opts.Name, opts.Secure)
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &CookieStore{
		codec:  codec,
		cookie: c,
		// The purpose names the cookie (without the https prefix), so a value sealed for another cookie,
		// such as the login state, never opens as a session.
		purpose: "cookie-session:" + strings.TrimPrefix(c.Name, browsercookie.HostPrefix),
		now:     now,
	}
}

// Load returns the session that the request's cookies carry, or an error wrapping ErrNoSession when there is
// none, a chunk is missing or altered, or the session has expired.
func (s *CookieStore) Load(r *http.Request) ([]byte, error) {
	data, _, err := s.LoadKeyed(r)
	return data, err
}

// loadSplit opens a session split across several cookies, first being the first cookie's value.
func (s *CookieStore) loadSplit(r *http.Request, first string) ([]byte, error) {
	countText, firstChunk, _ := strings.Cut(first, string(chunkCountSep))
	count, err := strconv.Atoi(countText)
	if err != nil || count < 2 || count > maxChunks {
		return nil, fmt.Errorf("%w (cookie %s announces %q chunks, want 2 to %d)", ErrNoSession, s.cookie.Name, countText, maxChunks)
	}
	var sealed strings.Builder
	sealed.Grow(count * chunkSize)
	sealed.WriteString(firstChunk)
	for i := 1; i < count; i++ {
		chunk, ok := browsercookie.Request(r, s.chunkName(i))
		if !ok {
			return nil, fmt.Errorf("%w (cookie %s is missing, want %d chunks)", ErrNoSession, s.chunkName(i), count)
		}
		sealed.WriteString(chunk)
	}
	return s.codec.Open(s.purpose, sealed.String(), s.now())
}

// CacheKey returns the value of the request's first session cookie, unchecked: on every request it must cost
// next to nothing. It matches a cached session only when it is a value that LoadKeyed opened before.
func (s *CookieStore) CacheKey(r *http.Request) (string, bool) {
	v, ok := browsercookie.Find(r, s.cookie.Name, false)
	if !ok || v == "" || len(v) > chunkSize {
		return "", false
	}
	return v, true
}

// LoadKeyed is Load, also returning the sealed value it opened, the key of the session it returns (the first
// valid cookie of the name, which need not be the first cookie of the name); a session split across several
// cookies has no key.
func (s *CookieStore) LoadKeyed(r *http.Request) ([]byte, string, error) {
	first, ok := browsercookie.Request(r, s.cookie.Name)
	if !ok || first == "" {
		return nil, "", ErrNoSession
	}
	if strings.IndexByte(first, chunkCountSep) < 0 {
		data, err := s.codec.Open(s.purpose, first, s.now())
		if err != nil {
			return nil, "", err
		}
		return data, first, nil
	}
	data, err := s.loadSplit(r, first)
	return data, "", err
}

// Save seals data into the response's cookies until opts.Expiry, splitting it when it is large, and expires the
// chunks of a previous, larger session that the request carried. opts.Renew needs nothing more here: every save
// is new content under a new nonce. opts.UserID is not used.
func (s *CookieStore) Save(w http.ResponseWriter, r *http.Request, data []byte, opts SaveOptions) error {
	now := s.now()
	if !opts.Expiry.After(now) {
		return fmt.Errorf("session: cookie store save: expiry %s is not after now %s", opts.Expiry.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	sealed, err := s.codec.Seal(s.purpose, data, opts.Expiry)
	if err != nil {
		return err
	}
	count := (len(sealed) + chunkSize - 1) / chunkSize
	if count > maxChunks {
		return fmt.Errorf("session: cookie store save: session of %d bytes seals to %d characters, more than the %d cookies of %d that a browser session may use; keep less in the session or use the Redis store",
			len(data), len(sealed), maxChunks, chunkSize)
	}
	if count == 1 {
		s.cookie.Set(w, s.cookie.Name, sealed, opts.Expiry, now)
	} else {
		s.cookie.Set(w, s.cookie.Name, strconv.Itoa(count)+string(chunkCountSep)+sealed[:chunkSize], opts.Expiry, now)
		for i := 1; i < count; i++ {
			s.cookie.Set(w, s.chunkName(i), sealed[i*chunkSize:min((i+1)*chunkSize, len(sealed))], opts.Expiry, now)
		}
	}
	s.expireChunks(w, r, count)
	return nil
}

// Delete expires the session cookie and every chunk of it that the request carried.
func (s *CookieStore) Delete(w http.ResponseWriter, r *http.Request) error {
	s.cookie.Expire(w, s.cookie.Name)
	s.expireChunks(w, r, 1)
	return nil
}

// expireChunks expires the chunk cookies numbered from and above that the request carried.
func (s *CookieStore) expireChunks(w http.ResponseWriter, r *http.Request, from int) {
	prefix := s.cookie.Name + "."
	for _, c := range r.Cookies() {
		n, ok := strings.CutPrefix(c.Name, prefix)
		if !ok {
			continue
		}
		if i, err := strconv.Atoi(n); err == nil && i >= from && n == strconv.Itoa(i) {
			s.cookie.Expire(w, c.Name)
		}
	}
}

func (s *CookieStore) chunkName(i int) string {
	return s.cookie.Name + "." + strconv.Itoa(i)
}

var (
	_ Store      = (*CookieStore)(nil)
	_ CacheKeyer = (*CookieStore)(nil)
)
