// Package storetest holds what the tests of every session store share: the behaviour every session.Store must
// have (Run), a browser that keeps cookies, a settable clock, and codecs with fresh random secrets. Only tests
// import it.
package storetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid/session"
)

// Start is the fixed time at which the stores' tests begin; nothing in them sleeps.
func Start() time.Time { return time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) }

// NewSecret returns a fresh random secret; tests never use fixed keys.
func NewSecret(t testing.TB) []byte {
	t.Helper()
	return []byte(rand.Text()) // 26 base32 characters, 130 bits
}

// NewCodec returns a codec over secrets, failing the test if they are refused.
func NewCodec(t testing.TB, secrets ...[]byte) *session.Codec {
	t.Helper()
	c, err := session.NewCodec(secrets...)
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	return c
}

// Browser keeps cookies the way a browser does for one https or http origin, enough to drive a Store through
// several requests.
type Browser struct {
	Jar map[string]string
}

// NewBrowser returns a browser without cookies.
func NewBrowser() *Browser { return &Browser{Jar: map[string]string{}} }

// Request builds a GET request that carries the browser's cookies.
func (b *Browser) Request() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	for name, value := range b.Jar {
		r.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	return r
}

// Apply stores or drops the cookies that a response set, and returns them.
func (b *Browser) Apply(t testing.TB, rec *httptest.ResponseRecorder) []*http.Cookie {
	t.Helper()
	cookies := rec.Result().Cookies()
	for _, c := range cookies {
		if c.MaxAge < 0 {
			delete(b.Jar, c.Name)
			continue
		}
		b.Jar[c.Name] = c.Value
	}
	return cookies
}

// Clock is a settable test clock: T is the time it reads.
type Clock struct{ T time.Time }

// Now returns T.
func (c *Clock) Now() time.Time { return c.T }

// Factory makes a fresh Store for one test, reading time from clk.
type Factory func(t *testing.T, clk *Clock, secure bool) session.Store

// Run runs the behaviour every Store must have, against stores that newStore makes.
func Run(t *testing.T, newStore Factory) {
	testNow := Start()
	t.Run("no cookie is no session", func(t *testing.T) {
		s := newStore(t, &Clock{T: testNow}, false)
		_, err := s.Load(NewBrowser().Request())
		if !errors.Is(err, session.ErrNoSession) {
			t.Fatalf("Load = %v, want ErrNoSession", err)
		}
	})

	t.Run("round trip", func(t *testing.T) {
		for _, size := range []int{0, 10, 2048, 10 * 1024} {
			clk := &Clock{T: testNow}
			s := newStore(t, clk, false)
			b := NewBrowser()
			data := RandomBytes(t, size)
			Save(t, s, b, data, session.SaveOptions{Expiry: testNow.Add(time.Hour)})
			got, err := s.Load(b.Request())
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("size %d: Load = %d bytes, %v; want the %d saved bytes", size, len(got), err, len(data))
			}
		}
	})

	t.Run("overwrite", func(t *testing.T) {
		s := newStore(t, &Clock{T: testNow}, false)
		b := NewBrowser()
		Save(t, s, b, []byte("first"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		Save(t, s, b, []byte("second"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		if got, err := s.Load(b.Request()); err != nil || string(got) != "second" {
			t.Fatalf("Load = %q, %v; want %q", got, err, "second")
		}
	})

	t.Run("expired", func(t *testing.T) {
		clk := &Clock{T: testNow}
		s := newStore(t, clk, false)
		b := NewBrowser()
		Save(t, s, b, []byte("data"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		clk.T = testNow.Add(time.Hour)
		if got, err := s.Load(b.Request()); !errors.Is(err, session.ErrNoSession) {
			t.Fatalf("Load at expiry = %q, %v; want ErrNoSession", got, err)
		}
	})

	t.Run("save refuses past expiry", func(t *testing.T) {
		s := newStore(t, &Clock{T: testNow}, false)
		rec := httptest.NewRecorder()
		err := s.Save(rec, NewBrowser().Request(), []byte("x"), session.SaveOptions{Expiry: testNow})
		if err == nil || errors.Is(err, session.ErrNoSession) {
			t.Fatalf("Save with expiry now = %v, want a usage error", err)
		}
	})

	t.Run("tampered cookie", func(t *testing.T) {
		s := newStore(t, &Clock{T: testNow}, false)
		b := NewBrowser()
		Save(t, s, b, []byte("data"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		for name, value := range b.Jar {
			tampered := NewBrowser()
			tampered.Jar[name] = FlipChar(value, len(value)/2)
			if got, err := s.Load(tampered.Request()); !errors.Is(err, session.ErrNoSession) {
				t.Fatalf("Load with %s altered = %q, %v; want ErrNoSession", name, got, err)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		s := newStore(t, &Clock{T: testNow}, false)
		b := NewBrowser()
		Save(t, s, b, RandomBytes(t, 10*1024), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		rec := httptest.NewRecorder()
		if err := s.Delete(rec, b.Request()); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		b.Apply(t, rec)
		if len(b.Jar) != 0 {
			t.Errorf("after Delete the browser still keeps cookies %v", b.Jar)
		}
		if got, err := s.Load(b.Request()); !errors.Is(err, session.ErrNoSession) {
			t.Fatalf("Load after Delete = %q, %v; want ErrNoSession", got, err)
		}
	})

	t.Run("renew", func(t *testing.T) {
		s := newStore(t, &Clock{T: testNow}, false)
		b := NewBrowser()
		Save(t, s, b, []byte("anonymous"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		Save(t, s, b, []byte("alice"), session.SaveOptions{Expiry: testNow.Add(time.Hour), Renew: true})
		if got, err := s.Load(b.Request()); err != nil || string(got) != "alice" {
			t.Fatalf("Load after renew = %q, %v; want %q", got, err, "alice")
		}
	})

	for _, secure := range []bool{false, true} {
		name := "cookie attributes on http"
		if secure {
			name = "cookie attributes on https"
		}
		t.Run(name, func(t *testing.T) {
			s := newStore(t, &Clock{T: testNow}, secure)
			b := NewBrowser()
			cookies := Save(t, s, b, []byte("data"), session.SaveOptions{Expiry: testNow.Add(90 * time.Minute)})
			if len(cookies) == 0 {
				t.Fatal("Save set no cookie")
			}
			CheckAttributes(t, cookies, secure, 90*60)
			rec := httptest.NewRecorder()
			if err := s.Delete(rec, b.Request()); err != nil {
				t.Fatal(err)
			}
			deleted := rec.Result().Cookies()
			if len(deleted) == 0 {
				t.Fatal("Delete set no cookie")
			}
			// A __Host- cookie can only be removed by a Set-Cookie with the same attributes.
			CheckAttributes(t, deleted, secure, -1)
		})
	}
}

// CheckAttributes asserts the session cookie rules of DESIGN.md §4 on every cookie.
func CheckAttributes(t *testing.T, cookies []*http.Cookie, secure bool, wantMaxAge int) {
	t.Helper()
	for _, c := range cookies {
		if c.Secure != secure {
			t.Errorf("%s: Secure = %v, want %v", c.Name, c.Secure, secure)
		}
		if strings.HasPrefix(c.Name, "__Host-") != secure {
			t.Errorf("%s: __Host- prefix present = %v, want %v", c.Name, !secure, secure)
		}
		if !c.HttpOnly {
			t.Errorf("%s: not HttpOnly", c.Name)
		}
		if c.SameSite != http.SameSiteLaxMode {
			t.Errorf("%s: SameSite = %v, want Lax", c.Name, c.SameSite)
		}
		if c.Path != "/" {
			t.Errorf("%s: Path = %q, want /", c.Name, c.Path)
		}
		if c.Domain != "" {
			t.Errorf("%s: Domain = %q, want none", c.Name, c.Domain)
		}
		if c.MaxAge != wantMaxAge {
			t.Errorf("%s: MaxAge = %d, want %d", c.Name, c.MaxAge, wantMaxAge)
		}
	}
}

// Save calls s.Save for the browser's next request, applies the response's cookies and returns them.
func Save(t testing.TB, s session.Store, b *Browser, data []byte, opts session.SaveOptions) []*http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := s.Save(rec, b.Request(), data, opts); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return b.Apply(t, rec)
}

// RandomBytes returns n random bytes.
func RandomBytes(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	for buf.Len() < n {
		buf.WriteString(rand.Text())
	}
	return buf.Bytes()[:n]
}

// FlipChar changes the base64url character at i to another one.
func FlipChar(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
