package appid

import (
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
)

func TestIntrospectedUser(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	a := &Auth{cfg: Config{Provider: ProviderOIDC, ClientID: "app", OAuthServerURL: "https://idp.example/"}.withDefaults()}
	a.cfg.ClockSkew = time.Minute
	valid := func() map[string]any {
		return map[string]any{"active": true, "sub": "u1", "client_id": "app", "scope": "openid api",
			"exp": float64(now.Add(time.Hour).Unix()), "iss": "https://idp.example/", "email": "u1@example.com",
			"given_name": "Una", "family_name": "One", "roles": []any{"admin"}}
	}
	tests := []struct {
		name    string
		edit    func(map[string]any)
		wantErr string // "" for admitted
	}{
		{"active, issued to this client", func(map[string]any) {}, ""},
		{"for this client's audience, issued to another", func(m map[string]any) {
			m["client_id"] = "other"
			m["aud"] = []any{"app", "api"}
		}, ""},
		{"without exp or iss", func(m map[string]any) { delete(m, "exp"); delete(m, "iss") }, ""},
		{"inactive", func(m map[string]any) { m["active"] = false }, "not active"},
		{"active as a string", func(m map[string]any) { m["active"] = "true" }, "not active"},
		{"no sub", func(m map[string]any) { delete(m, "sub") }, "no sub"},
		{"another issuer", func(m map[string]any) { m["iss"] = "https://idp.example" }, "issued by"},
		{"expired", func(m map[string]any) { m["exp"] = float64(now.Add(-2 * time.Minute).Unix()) }, "expired"},
		{"issued to another client for another audience", func(m map[string]any) {
			m["client_id"] = "other"
			m["aud"] = "api"
		}, "expected this client"},
		{"a refresh token", func(m map[string]any) { m["token_type"] = "refresh_token" }, "not an access token"},
		{"Keycloak's refresh token", func(m map[string]any) { m["typ"] = "Refresh" }, "not an access token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			answer := valid()
			tc.edit(answer)
			u, err := newIntrospector(a, nil).user(answer, now)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.ID != "u1" || u.Email != "u1@example.com" || u.Name != "Una One" || strings.Join(u.Roles, ",") != "admin" ||
				strings.Join(u.Scopes, " ") != "openid api" {
				t.Errorf("user %+v", u)
			}
		})
	}
}

// introspectingIssuer is a ProviderOIDC-mode provider reduced to discovery and an introspection endpoint.
type introspectingIssuer struct {
	srv    *httptest.Server
	calls  atomic.Int32
	answer func(w http.ResponseWriter, r *http.Request)
}

func newIntrospectingIssuer(t *testing.T, authMethods []string, listed bool) *introspectingIssuer {
	f := &introspectingIssuer{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := f.srv.URL
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			meta := map[string]any{"issuer": base + "/", "authorization_endpoint": base + "/auth",
				"token_endpoint": base + "/token", "jwks_uri": base + "/keys",
				"introspection_endpoint_auth_methods_supported": authMethods}
			if listed {
				meta["introspection_endpoint"] = base + "/introspect"
			}
			json.NewEncoder(w).Encode(meta)
		case "/introspect":
			f.calls.Add(1)
			f.answer(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func newIntrospectingAuth(t *testing.T, f *introspectingIssuer, clock *testkit.Clock) *Auth {
	key := make([]byte, 32)
	rand.Read(key)
	a, err := New(t.Context(), Config{Provider: ProviderOIDC, ClientID: "app", ClientSecret: "s3cret/+",
		OAuthServerURL: f.srv.URL + "/", RedirectURL: "http://127.0.0.1:1/afterauth", SessionKeys: [][]byte{key},
		Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestBearerThroughIntrospection(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	active := func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"active": true, "sub": "u1", "client_id": "app",
			"exp": clock.Now().Add(10 * time.Minute).Unix(), "roles": []string{"admin"}})
	}
	t.Run("client_secret_basic, cached for a while", func(t *testing.T) {
		f := newIntrospectingIssuer(t, nil, true)
		f.answer = func(w http.ResponseWriter, r *http.Request) {
			if id, secret, ok := r.BasicAuth(); !ok || id != "app" || secret != "s3cret%2F%2B" || r.PostFormValue("token") != "opaque-1" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			active(w, r)
		}
		a := newIntrospectingAuth(t, f, clock)
		for range 2 {
			if got, body := bearerStatus(a, "opaque-1", Role("admin")); got != http.StatusOK {
				t.Fatalf("bearer: %d %s", got, body)
			}
		}
		if n := f.calls.Load(); n != 1 {
			t.Errorf("%d introspections for two requests within the cache time, want 1", n)
		}
		clock.Advance(introspectionCacheTTL)
		if got, _ := bearerStatus(a, "opaque-1"); got != http.StatusOK || f.calls.Load() != 2 {
			t.Errorf("after the cache time: %d, %d introspections; want 200 and 2", got, f.calls.Load())
		}
	})
	t.Run("client_secret_post when the endpoint takes only that", func(t *testing.T) {
		f := newIntrospectingIssuer(t, []string{"client_secret_post", "private_key_jwt"}, true)
		f.answer = func(w http.ResponseWriter, r *http.Request) {
			if _, _, basic := r.BasicAuth(); basic || r.PostFormValue("client_id") != "app" ||
				r.PostFormValue("client_secret") != "s3cret/+" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			active(w, r)
		}
		if got, body := bearerStatus(newIntrospectingAuth(t, f, clock), "opaque-2"); got != http.StatusOK {
			t.Errorf("bearer: %d %s", got, body)
		}
	})
	t.Run("inactive", func(t *testing.T) {
		f := newIntrospectingIssuer(t, nil, true)
		f.answer = func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"active":false}`)) }
		a := newIntrospectingAuth(t, f, clock)
		for range 2 {
			if got, _ := bearerStatus(a, "revoked"); got != http.StatusUnauthorized {
				t.Errorf("inactive token: %d, want 401", got)
			}
		}
		if f.calls.Load() != 1 {
			t.Errorf("%d introspections, want 1: a token refused a moment ago is refused without asking", f.calls.Load())
		}
		clock.Advance(refusedBearerTTL)
		if got, _ := bearerStatus(a, "revoked"); got != http.StatusUnauthorized || f.calls.Load() != 2 {
			t.Errorf("after %s: %d, %d introspections; want 401 and 2", refusedBearerTTL, got, f.calls.Load())
		}
	})
	t.Run("oversized token", func(t *testing.T) {
		f := newIntrospectingIssuer(t, nil, true)
		f.answer = active
		if got, _ := bearerStatus(newIntrospectingAuth(t, f, clock), strings.Repeat("x", maxIntrospectedToken+1)); got != http.StatusUnauthorized || f.calls.Load() != 0 {
			t.Errorf("a %d-byte token: %d after %d introspections; want 401 without asking", maxIntrospectedToken+1, got, f.calls.Load())
		}
	})
	t.Run("a refresh token as ORY Hydra answers for it", func(t *testing.T) {
		f := newIntrospectingIssuer(t, nil, true)
		f.answer = func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"active":true,"sub":"user-1","client_id":"app","token_type":"Bearer","token_use":"refresh_token"}`))
		}
		if got, _ := bearerStatus(newIntrospectingAuth(t, f, clock), "refresh-1"); got != http.StatusUnauthorized {
			t.Errorf("refresh token: %d, want 401", got)
		}
	})
	t.Run("introspection down", func(t *testing.T) {
		f := newIntrospectingIssuer(t, nil, true)
		f.answer = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) }
		got, body := bearerStatus(newIntrospectingAuth(t, f, clock), "opaque-3")
		if got != http.StatusServiceUnavailable || !strings.Contains(body, "introspection") {
			t.Errorf("introspection down: %d %s, want 503 naming introspection", got, body)
		}
	})
	t.Run("no introspection endpoint listed", func(t *testing.T) {
		f := newIntrospectingIssuer(t, nil, false)
		if got, _ := bearerStatus(newIntrospectingAuth(t, f, clock), "opaque-4"); got != http.StatusUnauthorized {
			t.Errorf("opaque token without introspection: %d, want 401", got)
		}
	})
}
