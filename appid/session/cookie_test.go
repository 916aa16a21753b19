package session_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid/session"
)

func newCookieStore(t testing.TB, clk *clock, secure bool) *session.CookieStore {
	return session.NewCookieStore(newCodec(t, newSecret(t)), session.CookieOptions{Secure: secure, Now: clk.Now})
}

func TestCookieStore(t *testing.T) {
	testStore(t, func(t *testing.T, clk *clock, secure bool) session.Store {
		return newCookieStore(t, clk, secure)
	})
}

func TestCookieStoreNames(t *testing.T) {
	tests := []struct {
		name string
		opts session.CookieOptions
		want string
	}{
		{name: "default http", opts: session.CookieOptions{}, want: "appidgate_session"},
		{name: "default https", opts: session.CookieOptions{Secure: true}, want: "__Host-appidgate_session"},
		{name: "custom http", opts: session.CookieOptions{Name: "sid"}, want: "sid"},
		{name: "custom https", opts: session.CookieOptions{Name: "sid", Secure: true}, want: "__Host-sid"},
		{name: "already prefixed", opts: session.CookieOptions{Name: "__Host-sid", Secure: true}, want: "__Host-sid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Now = (&clock{testNow}).Now
			s := session.NewCookieStore(newCodec(t, newSecret(t)), tc.opts)
			cookies := save(t, s, newBrowser(), []byte("x"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
			if len(cookies) != 1 || cookies[0].Name != tc.want {
				t.Fatalf("cookies = %v, want one named %q", cookies, tc.want)
			}
		})
	}
}

func cookieNames(cookies []*http.Cookie) []string {
	var names []string
	for _, c := range cookies {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return names
}

func TestCookieStoreChunks(t *testing.T) {
	s := newCookieStore(t, &clock{testNow}, true)
	b := newBrowser()
	big := randomBytes(t, 10*1024)
	cookies := save(t, s, b, big, session.SaveOptions{Expiry: testNow.Add(time.Hour)})

	want := []string{"__Host-appidgate_session", "__Host-appidgate_session.1", "__Host-appidgate_session.2", "__Host-appidgate_session.3"}
	if got := cookieNames(cookies); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("10 KB session set cookies %v, want %v", got, want)
	}
	for _, c := range cookies {
		if line := c.String(); len(line) > 4000 {
			t.Errorf("cookie %s is %d bytes, more than a browser keeps", c.Name, len(line))
		}
	}
	checkAttributes(t, cookies, true, 3600)

	t.Run("missing chunk", func(t *testing.T) {
		for _, name := range want {
			partial := newBrowser()
			for k, v := range b.jar {
				if k != name {
					partial.jar[k] = v
				}
			}
			if got, err := s.Load(partial.request()); !errors.Is(err, session.ErrNoSession) {
				t.Errorf("without %s: Load = %d bytes, %v; want ErrNoSession", name, len(got), err)
			}
		}
	})

	t.Run("tampered chunk", func(t *testing.T) {
		for _, name := range want {
			tampered := newBrowser()
			for k, v := range b.jar {
				tampered.jar[k] = v
			}
			tampered.jar[name] = flipChar(b.jar[name], len(b.jar[name])-10)
			if got, err := s.Load(tampered.request()); !errors.Is(err, session.ErrNoSession) {
				t.Errorf("with %s altered: Load = %d bytes, %v; want ErrNoSession", name, len(got), err)
			}
		}
	})

	t.Run("swapped chunks", func(t *testing.T) {
		swapped := newBrowser()
		for k, v := range b.jar {
			swapped.jar[k] = v
		}
		swapped.jar[want[1]], swapped.jar[want[2]] = b.jar[want[2]], b.jar[want[1]]
		if _, err := s.Load(swapped.request()); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("with chunks 1 and 2 swapped: Load = %v; want ErrNoSession", err)
		}
	})

	t.Run("bad chunk count", func(t *testing.T) {
		for _, count := range []string{"0", "1", "3", "5", "11", "-4", "x", ""} {
			bad := newBrowser()
			for k, v := range b.jar {
				bad.jar[k] = v
			}
			_, rest, _ := strings.Cut(b.jar[want[0]], ".")
			bad.jar[want[0]] = count + "." + rest
			if _, err := s.Load(bad.request()); !errors.Is(err, session.ErrNoSession) {
				t.Errorf("with count %q: Load = %v; want ErrNoSession", count, err)
			}
		}
	})

	t.Run("smaller session expires leftover chunks", func(t *testing.T) {
		small := newBrowser()
		for k, v := range b.jar {
			small.jar[k] = v
		}
		cookies := save(t, s, small, []byte("small"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		var expired []string
		for _, c := range cookies {
			if c.MaxAge < 0 {
				expired = append(expired, c.Name)
			}
		}
		sort.Strings(expired)
		if strings.Join(expired, " ") != strings.Join(want[1:], " ") {
			t.Errorf("expired %v, want the leftover chunks %v", expired, want[1:])
		}
		if len(small.jar) != 1 {
			t.Errorf("browser keeps %v, want only the session cookie", small.jar)
		}
		if got, err := s.Load(small.request()); err != nil || string(got) != "small" {
			t.Errorf("Load = %q, %v; want %q", got, err, "small")
		}
	})

	t.Run("delete expires every chunk", func(t *testing.T) {
		rec := httptest.NewRecorder()
		if err := s.Delete(rec, b.request()); err != nil {
			t.Fatal(err)
		}
		var expired []string
		for _, c := range rec.Result().Cookies() {
			if c.MaxAge >= 0 {
				t.Errorf("Delete set %s with Max-Age %d, want it expired", c.Name, c.MaxAge)
			}
			expired = append(expired, c.Name)
		}
		sort.Strings(expired)
		if strings.Join(expired, " ") != strings.Join(want, " ") {
			t.Errorf("Delete expired %v, want %v", expired, want)
		}
	})
}

func TestCookieStoreRefusesTooLargeSession(t *testing.T) {
	s := newCookieStore(t, &clock{testNow}, false)
	err := s.Save(httptest.NewRecorder(), newBrowser().request(), randomBytes(t, 40*1024), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "Redis") {
		t.Fatalf("Save of 40 KB = %v, want an error that suggests the Redis store", err)
	}
}

func TestCookieStoreRefusesOtherPurposes(t *testing.T) {
	codec := newCodec(t, newSecret(t))
	s := session.NewCookieStore(codec, session.CookieOptions{Now: (&clock{testNow}).Now})
	other, err := codec.Seal("login-state", []byte("state"), testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser()
	b.jar[session.DefaultCookieName] = other
	if got, err := s.Load(b.request()); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("Load of a login-state value = %q, %v; want ErrNoSession", got, err)
	}

	// A session sealed for another cookie name does not open under this one either.
	otherStore := session.NewCookieStore(codec, session.CookieOptions{Name: "other", Now: (&clock{testNow}).Now})
	ob := newBrowser()
	save(t, otherStore, ob, []byte("x"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
	b.jar[session.DefaultCookieName] = ob.jar["other"]
	if got, err := s.Load(b.request()); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("Load of another cookie's session = %q, %v; want ErrNoSession", got, err)
	}
}

func TestCookieStoreReadsAmongOtherCookies(t *testing.T) {
	s := newCookieStore(t, &clock{testNow}, false)
	b := newBrowser()
	save(t, s, b, []byte("mine"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Add("Cookie", "theme=dark; appidgate_session_x=1")
	r.Header.Add("Cookie", "a=b;appidgate_session="+b.jar["appidgate_session"]+"; z=1")
	if got, err := s.Load(r); err != nil || string(got) != "mine" {
		t.Fatalf("Load = %q, %v; want %q", got, err, "mine")
	}
}

func BenchmarkCookieStoreLoad(b *testing.B) {
	s := newCookieStore(b, &clock{testNow}, true)
	br := newBrowser()
	save(b, s, br, randomBytes(b, 2048), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
	r := br.request()
	r.Header.Add("Cookie", "theme=dark; _ga=GA1.2.3.4")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Load(r); err != nil {
			b.Fatal(err)
		}
	}
}
