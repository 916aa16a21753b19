package session_test

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

// browser keeps cookies the way a browser does for one https or http origin, enough to drive a Store through
// several requests.
type browser struct {
	jar map[string]string
}

func newBrowser() *browser { return &browser{jar: map[string]string{}} }

// request builds a GET request that carries the browser's cookies.
func (b *browser) request() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	for name, value := range b.jar {
		r.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	return r
}

// apply stores or drops the cookies that a response set, and returns them.
func (b *browser) apply(t testing.TB, rec *httptest.ResponseRecorder) []*http.Cookie {
	t.Helper()
	cookies := rec.Result().Cookies()
	for _, c := range cookies {
		if c.MaxAge < 0 {
			delete(b.jar, c.Name)
			continue
		}
		b.jar[c.Name] = c.Value
	}
	return cookies
}

// clock is a settable test clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// storeFactory makes a fresh Store for one test, reading time from clk.
type storeFactory func(t *testing.T, clk *clock, secure bool) session.Store

// testStore runs the behaviour every Store must have.
func testStore(t *testing.T, newStore storeFactory) {
	t.Run("no cookie is no session", func(t *testing.T) {
		s := newStore(t, &clock{testNow}, false)
		_, err := s.Load(newBrowser().request())
		if !errors.Is(err, session.ErrNoSession) {
			t.Fatalf("Load = %v, want ErrNoSession", err)
		}
	})

	t.Run("round trip", func(t *testing.T) {
		for _, size := range []int{0, 10, 2048, 10 * 1024} {
			clk := &clock{testNow}
			s := newStore(t, clk, false)
			b := newBrowser()
			data := randomBytes(t, size)
			save(t, s, b, data, session.SaveOptions{Expiry: testNow.Add(time.Hour)})
			got, err := s.Load(b.request())
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("size %d: Load = %d bytes, %v; want the %d saved bytes", size, len(got), err, len(data))
			}
		}
	})

	t.Run("overwrite", func(t *testing.T) {
		s := newStore(t, &clock{testNow}, false)
		b := newBrowser()
		save(t, s, b, []byte("first"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		save(t, s, b, []byte("second"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		if got, err := s.Load(b.request()); err != nil || string(got) != "second" {
			t.Fatalf("Load = %q, %v; want %q", got, err, "second")
		}
	})

	t.Run("expired", func(t *testing.T) {
		clk := &clock{testNow}
		s := newStore(t, clk, false)
		b := newBrowser()
		save(t, s, b, []byte("data"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		clk.now = testNow.Add(time.Hour)
		if got, err := s.Load(b.request()); !errors.Is(err, session.ErrNoSession) {
			t.Fatalf("Load at expiry = %q, %v; want ErrNoSession", got, err)
		}
	})

	t.Run("save refuses past expiry", func(t *testing.T) {
		s := newStore(t, &clock{testNow}, false)
		rec := httptest.NewRecorder()
		err := s.Save(rec, newBrowser().request(), []byte("x"), session.SaveOptions{Expiry: testNow})
		if err == nil || errors.Is(err, session.ErrNoSession) {
			t.Fatalf("Save with expiry now = %v, want a usage error", err)
		}
	})

	t.Run("tampered cookie", func(t *testing.T) {
		s := newStore(t, &clock{testNow}, false)
		b := newBrowser()
		save(t, s, b, []byte("data"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		for name, value := range b.jar {
			tampered := newBrowser()
			tampered.jar[name] = flipChar(value, len(value)/2)
			if got, err := s.Load(tampered.request()); !errors.Is(err, session.ErrNoSession) {
				t.Fatalf("Load with %s altered = %q, %v; want ErrNoSession", name, got, err)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		s := newStore(t, &clock{testNow}, false)
		b := newBrowser()
		save(t, s, b, randomBytes(t, 10*1024), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		rec := httptest.NewRecorder()
		if err := s.Delete(rec, b.request()); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		b.apply(t, rec)
		if len(b.jar) != 0 {
			t.Errorf("after Delete the browser still keeps cookies %v", b.jar)
		}
		if got, err := s.Load(b.request()); !errors.Is(err, session.ErrNoSession) {
			t.Fatalf("Load after Delete = %q, %v; want ErrNoSession", got, err)
		}
	})

	t.Run("renew", func(t *testing.T) {
		s := newStore(t, &clock{testNow}, false)
		b := newBrowser()
		save(t, s, b, []byte("anonymous"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		save(t, s, b, []byte("alice"), session.SaveOptions{Expiry: testNow.Add(time.Hour), Renew: true})
		if got, err := s.Load(b.request()); err != nil || string(got) != "alice" {
			t.Fatalf("Load after renew = %q, %v; want %q", got, err, "alice")
		}
	})

	for _, secure := range []bool{false, true} {
		name := "cookie attributes on http"
		if secure {
			name = "cookie attributes on https"
		}
		t.Run(name, func(t *testing.T) {
			s := newStore(t, &clock{testNow}, secure)
			b := newBrowser()
			cookies := save(t, s, b, []byte("data"), session.SaveOptions{Expiry: testNow.Add(90 * time.Minute)})
			if len(cookies) == 0 {
				t.Fatal("Save set no cookie")
			}
			checkAttributes(t, cookies, secure, 90*60)
			rec := httptest.NewRecorder()
			if err := s.Delete(rec, b.request()); err != nil {
				t.Fatal(err)
			}
			deleted := rec.Result().Cookies()
			if len(deleted) == 0 {
				t.Fatal("Delete set no cookie")
			}
			// A __Host- cookie can only be removed by a Set-Cookie with the same attributes.
			checkAttributes(t, deleted, secure, -1)
		})
	}
}

// checkAttributes asserts the session cookie rules of DESIGN.md §4 on every cookie.
func checkAttributes(t *testing.T, cookies []*http.Cookie, secure bool, wantMaxAge int) {
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

// save calls s.Save for the browser's next request, applies the response's cookies and returns them.
func save(t testing.TB, s session.Store, b *browser, data []byte, opts session.SaveOptions) []*http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := s.Save(rec, b.request(), data, opts); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return b.apply(t, rec)
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	for buf.Len() < n {
		buf.WriteString(rand.Text())
	}
	return buf.Bytes()[:n]
}

// flipChar changes the base64url character at i to another one.
func flipChar(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
