package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/appid"
)

// spellings returns name in the spellings a client may use: canonical, lower, upper, and with "_" for some
// or all of its "-".
func spellings(name string) []string {
	lower := strings.ToLower(name)
	all := []string{
		http.CanonicalHeaderKey(name), lower, strings.ToUpper(name),
		strings.ReplaceAll(name, "-", "_"), strings.ReplaceAll(lower, "-", "_"),
		strings.ReplaceAll(strings.ToUpper(name), "-", "_"),
	}
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		all = append(all, name[:i]+"_"+name[i+1:]) // X-Forwarded_User
	}
	if i := strings.IndexByte(name, '-'); i > 0 {
		all = append(all, name[:i]+"_"+name[i+1:]) // X_Forwarded-User
	}
	var mixed strings.Builder // x-FoRwArDeD-uSeR
	for i, r := range lower {
		if i%2 == 1 {
			r = []rune(strings.ToUpper(string(r)))[0]
		}
		mixed.WriteRune(r)
	}
	return slices.Compact(append(all, mixed.String()))
}

func TestStripRemovesEveryIdentityHeaderInEverySpelling(t *testing.T) {
	t.Parallel()
	names := []string{
		"X-Appidgate-User", "X-Appidgate-Email", "X-Appidgate-Name", "X-Appidgate-Roles", "X-Appidgate-Scopes",
		"X-Appidgate-Access-Token", "X-Appidgate-Assertion", "X-Appidgate-Anything-Else",
		"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups", "X-Forwarded-Preferred-Username",
		"X-Forwarded-Access-Token",
		"X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups", "X-Auth-Request-Preferred-Username",
		"X-Auth-Request-Access-Token",
		"Authorization",
	}
	for _, name := range names {
		for _, k := range spellings(name) {
			t.Run(k, func(t *testing.T) {
				h := http.Header{k: {"mallory"}, "Accept": {"text/html"}}
				IdentityHeaders{}.Strip(h)
				if _, ok := h[k]; ok {
					t.Fatalf("%s survived Strip: %v", k, h)
				}
				if h.Get("Accept") != "text/html" {
					t.Fatalf("Strip removed Accept: %v", h)
				}
			})
		}
	}
}

func TestStripRemovesUnderscoreShadowsOfProxyHeaders(t *testing.T) {
	t.Parallel()
	for _, k := range []string{
		"X_Forwarded_For", "x_forwarded_for", "X-Forwarded_Host", "X_FORWARDED_PROTO", "X_Forwarded_Uri",
		"X-Forwarded_Method", "X_Original_URL", "x_original_uri", "X_Real_Ip", "X_REMOTE_USER", "X_Remote_Group",
		"X_Auth_Request_Redirect",
	} {
		t.Run(k, func(t *testing.T) {
			h := http.Header{k: {"1.2.3.4"}}
			IdentityHeaders{}.Strip(h)
			if len(h) != 0 {
				t.Fatalf("%s survived Strip", k)
			}
		})
	}
}

func TestStripKeepsAppHeaders(t *testing.T) {
	t.Parallel()
	keep := []string{
		"Accept", "Cookie", "Content-Type", "User-Agent", "X-Forwarded-For", "X-Forwarded-Host",
		"X-Forwarded-Proto", "X-Request-Id", "X_Custom_App_Header", "X-Api-Key", "Api_Key", "X-Forwarded",
		"X-Appidgate", "Authorization-Extra", "X-Authorization", "Xforwarded-User",
	}
	h := http.Header{}
	for _, k := range keep {
		h[k] = []string{"v"}
	}
	IdentityHeaders{}.Strip(h)
	for _, k := range keep {
		if _, ok := h[k]; !ok {
			t.Errorf("Strip removed %s", k)
		}
	}
}

func TestStripPassAuthorization(t *testing.T) {
	t.Parallel()
	h := http.Header{"Authorization": {"Bearer x"}, "X-Forwarded-User": {"mallory"}}
	IdentityHeaders{PassAuthorization: true}.Strip(h)
	if h.Get("Authorization") != "Bearer x" || h.Get("X-Forwarded-User") != "" {
		t.Fatalf("PassAuthorization: got %v, want Authorization kept and X-Forwarded-User gone", h)
	}
}

func TestStripAllocatesNothing(t *testing.T) {
	h := http.Header{
		"Accept": {"*/*"}, "Cookie": {"a=b"}, "User-Agent": {"x"}, "X-Request-Id": {"1"}, "Accept-Encoding": {"gzip"},
		"X-Forwarded-For": {"1.2.3.4"}, "Content-Type": {"text/plain"},
	}
	if n := testing.AllocsPerRun(100, func() { IdentityHeaders{}.Strip(h) }); n != 0 {
		t.Fatalf("Strip allocates %v times per call, want 0", n)
	}
}

func TestSetHeaders(t *testing.T) {
	t.Parallel()
	alice := &appid.User{
		ID: "a1b2-c3", Email: "alice@example.com", Name: "Alice Smith",
		Roles: []string{"user", "admin"}, Scopes: []string{"app/view", "app/edit"},
	}
	tests := []struct {
		name  string
		c     IdentityHeaders
		u     *appid.User
		token string
		want  http.Header
	}{
		{
			name: "family", u: alice, token: "tok",
			want: http.Header{
				"X-Appidgate-User": {"a1b2-c3"}, "X-Appidgate-Email": {"alice@example.com"},
				"X-Appidgate-Name": {"Alice Smith"}, "X-Appidgate-Roles": {"user,admin"},
				"X-Appidgate-Scopes": {"app/view app/edit"},
			},
		},
		{
			name: "oauth2-proxy names and token", c: IdentityHeaders{OAuth2Proxy: true, AccessToken: true}, u: alice,
			token: "eyJ.x.y",
			want: http.Header{
				"X-Appidgate-User": {"a1b2-c3"}, "X-Appidgate-Email": {"alice@example.com"},
				"X-Appidgate-Name": {"Alice Smith"}, "X-Appidgate-Roles": {"user,admin"},
				"X-Appidgate-Scopes": {"app/view app/edit"}, "X-Appidgate-Access-Token": {"eyJ.x.y"},
				"X-Forwarded-User": {"a1b2-c3"}, "X-Forwarded-Email": {"alice@example.com"},
				"X-Forwarded-Groups": {"user,admin"}, "X-Forwarded-Preferred-Username": {"Alice Smith"},
				"X-Forwarded-Access-Token": {"eyJ.x.y"},
			},
		},
		{
			name: "auth-request names, no token given", c: IdentityHeaders{AuthRequest: true, AccessToken: true},
			u: &appid.User{ID: "b", Claims: map[string]any{"preferred_username": "bobby"}},
			want: http.Header{
				"X-Appidgate-User": {"b"}, "X-Auth-Request-User": {"b"}, "X-Auth-Request-Preferred-Username": {"bobby"},
			},
		},
		{
			name: "token without AccessToken", u: &appid.User{ID: "b"}, token: "tok",
			want: http.Header{"X-Appidgate-User": {"b"}},
		},
		{
			name: "malformed token", c: IdentityHeaders{AccessToken: true, OAuth2Proxy: true}, u: &appid.User{ID: "b"},
			token: "tok\r\nX-Admin: 1",
			want:  http.Header{"X-Appidgate-User": {"b"}, "X-Forwarded-User": {"b"}},
		},
		{
			name: "non-ASCII", c: IdentityHeaders{OAuth2Proxy: true}, u: &appid.User{ID: "z", Name: "Zoë Ñúñez 山田"},
			want: http.Header{
				"X-Appidgate-User": {"z"}, "X-Appidgate-Name": {"Zo%C3%AB %C3%91%C3%BA%C3%B1ez %E5%B1%B1%E7%94%B0"},
				"X-Forwarded-User": {"z"}, "X-Forwarded-Preferred-Username": {"Zoë Ñúñez 山田"},
			},
		},
		{
			name: "CR LF NUL injection", c: IdentityHeaders{OAuth2Proxy: true},
			u: &appid.User{
				ID: "x\r\nX-Appidgate-Roles: admin", Email: "e\x00@x", Name: "n\nm",
				Roles: []string{"a\rb", "ok"},
			},
			want: http.Header{
				"X-Appidgate-User":   {"x%0D%0AX-Appidgate-Roles: admin"},
				"X-Appidgate-Email":  {"e%00@x"},
				"X-Appidgate-Name":   {"n%0Am"},
				"X-Appidgate-Roles":  {"a%0Db,ok"},
				"X-Forwarded-Groups": {"ok"},
			},
		},
		{
			name: "separators and percent", c: IdentityHeaders{OAuth2Proxy: true},
			u: &appid.User{
				ID: "100%", Name: " padded ", Roles: []string{"x,admin", "", "a b"}, Scopes: []string{"s 1", "s2"},
			},
			want: http.Header{
				"X-Appidgate-User": {"100%25"}, "X-Appidgate-Name": {"%20padded%20"},
				"X-Appidgate-Roles": {"x%2Cadmin,a b"}, "X-Appidgate-Scopes": {"s%201 s2"},
				"X-Forwarded-User": {"100%"}, "X-Forwarded-Groups": {"a b"},
				"X-Forwarded-Preferred-Username": {" padded "},
			},
		},
		{name: "no user", c: IdentityHeaders{OAuth2Proxy: true}, want: http.Header{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			tc.c.Set(h, tc.u, tc.token)
			if len(h) != len(tc.want) {
				t.Errorf("got %d headers, want %d:\n got %v\nwant %v", len(h), len(tc.want), h, tc.want)
			}
			for k, v := range tc.want {
				if !slices.Equal(h[k], v) {
					t.Errorf("%s = %q, want %q", k, h[k], v)
				}
			}
			for k, vs := range h {
				for _, v := range vs {
					if strings.ContainsAny(v, "\r\n\x00") {
						t.Errorf("%s carries a raw CR, LF or NUL: %q", k, v)
					}
				}
			}
		})
	}
}

// TestSetValuesDecode checks that each encoded value decodes back to the original with url.PathUnescape, as
// an upstream does, lists split first.
func TestSetValuesDecode(t *testing.T) {
	t.Parallel()
	u := &appid.User{
		ID: "id%2F\x7f", Email: "é@ex.com", Name: " Zoë\t山田 ", Roles: []string{"r,1", "r%2", "ü"},
		Scopes: []string{"a b", "c"},
	}
	h := http.Header{}
	IdentityHeaders{}.Set(h, u, "")
	decode := func(s string) string {
		t.Helper()
		d, err := url.PathUnescape(s)
		if err != nil {
			t.Fatalf("PathUnescape(%q): %v", s, err)
		}
		return d
	}
	decodeList := func(s, sep string) []string {
		var out []string
		for _, it := range strings.Split(s, sep) {
			out = append(out, decode(it))
		}
		return out
	}
	if got := decode(h.Get("X-Appidgate-User")); got != u.ID {
		t.Errorf("user decodes to %q, want %q", got, u.ID)
	}
	if got := decode(h.Get("X-Appidgate-Email")); got != u.Email {
		t.Errorf("email decodes to %q, want %q", got, u.Email)
	}
	if got := decode(h.Get("X-Appidgate-Name")); got != u.Name {
		t.Errorf("name decodes to %q, want %q", got, u.Name)
	}
	if got := decodeList(h.Get("X-Appidgate-Roles"), ","); !slices.Equal(got, u.Roles) {
		t.Errorf("roles decode to %q, want %q", got, u.Roles)
	}
	if got := decodeList(h.Get("X-Appidgate-Scopes"), " "); !slices.Equal(got, u.Scopes) {
		t.Errorf("scopes decode to %q, want %q", got, u.Scopes)
	}
}

// TestSetThroughTransport sends the headers Set writes through net/http to a server, as the proxy does, and
// checks they arrive unchanged: a value net/http refuses would fail the proxied request.
func TestSetThroughTransport(t *testing.T) {
	t.Parallel()
	u := &appid.User{ID: "z\r\n", Name: "Zoë 山田", Email: "a@b", Roles: []string{"x\x00"}}
	want := http.Header{}
	IdentityHeaders{OAuth2Proxy: true}.Set(want, u, "")
	got := roundTripHeaders(t, want)
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s arrived as %q, want %q", k, got[k], v)
		}
	}
}

func BenchmarkStrip(b *testing.B) {
	h := http.Header{
		"Accept": {"*/*"}, "Cookie": {"a=b"}, "User-Agent": {"x"}, "X-Request-Id": {"1"}, "Accept-Encoding": {"gzip"},
		"X-Forwarded-For": {"1.2.3.4"}, "Content-Type": {"text/plain"}, "Accept-Language": {"en"},
		"Sec-Fetch-Mode": {"navigate"}, "Referer": {"https://x/"},
	}
	b.ReportAllocs()
	for b.Loop() {
		IdentityHeaders{}.Strip(h)
	}
}

func BenchmarkSet(b *testing.B) {
	u := &appid.User{ID: "a1b2-c3", Email: "alice@example.com", Name: "Alice Smith", Roles: []string{"user", "admin"}}
	b.ReportAllocs()
	for b.Loop() {
		IdentityHeaders{}.Set(http.Header{}, u, "")
	}
}

// roundTripHeaders sends a request carrying h to a test server and returns the headers the server received.
func roundTripHeaders(t *testing.T, h http.Header) http.Header {
	t.Helper()
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header }))
	t.Cleanup(srv.Close)
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h.Clone()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("net/http refused the headers: %v", err)
	}
	resp.Body.Close()
	return <-got
}

// TestSetValuesStayApart: adding to one identity header after Set leaves the others as they were (their values
// share one backing array).
func TestSetValuesStayApart(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	u := &appid.User{ID: "u1", Email: "u@example.com", Name: "U", Roles: []string{"a", "b"}}
	IdentityHeaders{OAuth2Proxy: true}.Set(h, u, "")
	h.Add("X-Appidgate-User", "extra")
	h.Add("X-Forwarded-User", "extra")
	if got := h.Values("X-Appidgate-Email"); len(got) != 1 || got[0] != "u@example.com" {
		t.Errorf("X-Appidgate-Email = %q after adding to X-Appidgate-User", got)
	}
	if got := h.Values("X-Forwarded-Email"); len(got) != 1 || got[0] != "u@example.com" {
		t.Errorf("X-Forwarded-Email = %q after adding to X-Forwarded-User", got)
	}
	if got := h.Values("X-Appidgate-User"); len(got) != 2 || got[0] != "u1" {
		t.Errorf("X-Appidgate-User = %q", got)
	}
}
