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
	"github.com/appidgate/appidgate/appid/session/internal/storetest"
)

func newCookieStore(t testing.TB, clk *storetest.Clock, secure bool) *session.CookieStore {
	return session.NewCookieStore(storetest.NewCodec(t, storetest.NewSecret(t)), session.CookieOptions{Secure: secure, Now: clk.Now})
}

func TestCookieStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, clk *storetest.Clock, secure bool) session.Store {
		return newCookieStore(t, clk, secure)
	})
}

func TestCookieStoreNames(t *testing.T) {
	t.Parallel()
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
			tc.opts.Now = (&storetest.Clock{T: testNow}).Now
			s := session.NewCookieStore(storetest.NewCodec(t, storetest.NewSecret(t)), tc.opts)
			cookies := storetest.Save(t, s, storetest.NewBrowser(), []byte("x"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
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
	t.Parallel()
	s := newCookieStore(t, &storetest.Clock{T: testNow}, true)
	b := storetest.NewBrowser()
	big := storetest.RandomBytes(t, 10*1024)
	cookies := storetest.Save(t, s, b, big, session.SaveOptions{Expiry: testNow.Add(time.Hour)})

	want := []string{"__Host-appidgate_session", "__Host-appidgate_session.1", "__Host-appidgate_session.2", "__Host-appidgate_session.3"}
	if got := cookieNames(cookies); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("10 KB session set cookies %v, want %v", got, want)
	}
	for _, c := range cookies {
		if line := c.String(); len(line) > 4000 {
			t.Errorf("cookie %s is %d bytes, more than a browser keeps", c.Name, len(line))
		}
	}
	storetest.CheckAttributes(t, cookies, true, 3600)

	t.Run("missing chunk", func(t *testing.T) {
		for _, name := range want {
			partial := storetest.NewBrowser()
			for k, v := range b.Jar {
				if k != name {
					partial.Jar[k] = v
				}
			}
			if got, err := s.Load(partial.Request()); !errors.Is(err, session.ErrNoSession) {
				t.Errorf("without %s: Load = %d bytes, %v; want ErrNoSession", name, len(got), err)
			}
		}
	})

	t.Run("tampered chunk", func(t *testing.T) {
		for _, name := range want {
			tampered := storetest.NewBrowser()
			for k, v := range b.Jar {
				tampered.Jar[k] = v
			}
			tampered.Jar[name] = storetest.FlipChar(b.Jar[name], len(b.Jar[name])-10)
			if got, err := s.Load(tampered.Request()); !errors.Is(err, session.ErrNoSession) {
				t.Errorf("with %s altered: Load = %d bytes, %v; want ErrNoSession", name, len(got), err)
			}
		}
	})

	t.Run("swapped chunks", func(t *testing.T) {
		swapped := storetest.NewBrowser()
		for k, v := range b.Jar {
			swapped.Jar[k] = v
		}
		swapped.Jar[want[1]], swapped.Jar[want[2]] = b.Jar[want[2]], b.Jar[want[1]]
		if _, err := s.Load(swapped.Request()); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("with chunks 1 and 2 swapped: Load = %v; want ErrNoSession", err)
		}
	})

	t.Run("bad chunk count", func(t *testing.T) {
		for _, count := range []string{"0", "1", "3", "5", "11", "-4", "x", ""} {
			bad := storetest.NewBrowser()
			for k, v := range b.Jar {
				bad.Jar[k] = v
			}
			_, rest, _ := strings.Cut(b.Jar[want[0]], ".")
			bad.Jar[want[0]] = count + "." + rest
			if _, err := s.Load(bad.Request()); !errors.Is(err, session.ErrNoSession) {
				t.Errorf("with count %q: Load = %v; want ErrNoSession", count, err)
			}
		}
	})

	t.Run("smaller session expires leftover chunks", func(t *testing.T) {
		small := storetest.NewBrowser()
		for k, v := range b.Jar {
			small.Jar[k] = v
		}
		cookies := storetest.Save(t, s, small, []byte("small"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
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
		if len(small.Jar) != 1 {
			t.Errorf("browser keeps %v, want only the session cookie", small.Jar)
		}
		if got, err := s.Load(small.Request()); err != nil || string(got) != "small" {
			t.Errorf("Load = %q, %v; want %q", got, err, "small")
		}
	})

	t.Run("delete expires every chunk", func(t *testing.T) {
		rec := httptest.NewRecorder()
		if err := s.Delete(rec, b.Request()); err != nil {
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
	t.Parallel()
	s := newCookieStore(t, &storetest.Clock{T: testNow}, false)
	err := s.Save(httptest.NewRecorder(), storetest.NewBrowser().Request(), storetest.RandomBytes(t, 40*1024), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "Redis") {
		t.Fatalf("Save of 40 KB = %v, want an error that suggests the Redis store", err)
	}
}

func TestCookieStoreRefusesOtherPurposes(t *testing.T) {
	t.Parallel()
	codec := storetest.NewCodec(t, storetest.NewSecret(t))
	s := session.NewCookieStore(codec, session.CookieOptions{Now: (&storetest.Clock{T: testNow}).Now})
	other, err := codec.Seal("login-state", []byte("state"), testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b := storetest.NewBrowser()
	b.Jar[session.DefaultCookieName] = other
	if got, err := s.Load(b.Request()); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("Load of a login-state value = %q, %v; want ErrNoSession", got, err)
	}

	// A session sealed for another cookie name does not open under this one either.
	otherStore := session.NewCookieStore(codec, session.CookieOptions{Name: "other", Now: (&storetest.Clock{T: testNow}).Now})
	ob := storetest.NewBrowser()
	storetest.Save(t, otherStore, ob, []byte("x"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
	b.Jar[session.DefaultCookieName] = ob.Jar["other"]
	if got, err := s.Load(b.Request()); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("Load of another cookie's session = %q, %v; want ErrNoSession", got, err)
	}
}

func TestCookieStoreReadsAmongOtherCookies(t *testing.T) {
	t.Parallel()
	s := newCookieStore(t, &storetest.Clock{T: testNow}, false)
	b := storetest.NewBrowser()
	storetest.Save(t, s, b, []byte("mine"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Add("Cookie", "theme=dark; appidgate_session_x=1")
	r.Header.Add("Cookie", "a=b;appidgate_session="+b.Jar["appidgate_session"]+"; z=1")
	if got, err := s.Load(r); err != nil || string(got) != "mine" {
		t.Fatalf("Load = %q, %v; want %q", got, err, "mine")
	}
}

func BenchmarkCookieStoreLoad(b *testing.B) {
	s := newCookieStore(b, &storetest.Clock{T: testNow}, true)
	br := storetest.NewBrowser()
	storetest.Save(b, s, br, storetest.RandomBytes(b, 2048), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
	r := br.Request()
	r.Header.Add("Cookie", "theme=dark; _ga=GA1.2.3.4")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Load(r); err != nil {
			b.Fatal(err)
		}
	}
}
