package appid_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/appidgate/appidgate/appid"
)

// ExampleNewContext tests a handler that calls UserFrom without a provider.
func ExampleNewContext() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := appid.UserFrom(r.Context())
		if !ok || !u.HasRole("admin") {
			http.Error(w, "not for you", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "hello %s", u.Name)
	})
	r := httptest.NewRequest(http.MethodGet, "/admin", nil)
	r = r.WithContext(appid.NewContext(r.Context(), &appid.User{ID: "a1", Name: "Alice", Roles: []string{"admin"}}))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, r)
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 200 hello Alice
}

func TestNewContext(t *testing.T) {
	t.Parallel()
	if _, ok := appid.UserFrom(context.Background()); ok {
		t.Error("UserFrom of a bare context found a user")
	}
	if _, ok := appid.UserFrom(appid.NewContext(context.Background(), nil)); ok {
		t.Error("UserFrom found the nil user NewContext was given")
	}
	u := &appid.User{ID: "a1", Roles: []string{"admin"}}
	got, ok := appid.UserFrom(appid.NewContext(context.Background(), u))
	if !ok || got.ID != "a1" || !got.HasRole("admin") {
		t.Fatalf("UserFrom = %+v, %v", got, ok)
	}
	got.ID = "changed"
	if u.ID != "a1" {
		t.Error("the context's user is the caller's own: a handler's change reached it")
	}
}

// TestParsePolicy: the policy language of the proxy's routes, for programs.
func TestParsePolicy(t *testing.T) {
	t.Parallel()
	admin := &appid.User{ID: "c", Roles: []string{"user", "admin"}}
	user := &appid.User{ID: "a", Roles: []string{"user"}, Scopes: []string{"app/reports"}}
	nobody := &appid.User{ID: "b"}
	for _, tc := range []struct {
		text  string
		name  string
		allow []bool // admin, user, nobody
	}{
		{"authenticated", "authenticated", []bool{true, true, true}},
		{"any-role", "any_role", []bool{true, true, false}},
		{"role:admin", "role:admin", []bool{true, false, false}},
		{"any-of [role:admin, scope:reports]", "any(role:admin|scope:reports)", []bool{true, true, false}},
	} {
		p, err := appid.ParsePolicy(tc.text)
		if err != nil {
			t.Fatalf("ParsePolicy(%q): %v", tc.text, err)
		}
		got := []bool{p.Allows(admin), p.Allows(user), p.Allows(nobody)}
		if p.String() != tc.name || !slices.Equal(got, tc.allow) {
			t.Errorf("ParsePolicy(%q) = %s allowing %v, want %s allowing %v", tc.text, p, got, tc.name, tc.allow)
		}
	}
	_, err := appid.ParsePolicy("any-of [role:admin, admin]")
	var pe *appid.PolicyError
	if !errors.As(err, &pe) || pe.Offset != 20 || pe.Msg == "" {
		t.Errorf("ParsePolicy of a bare name: %#v, want a PolicyError at byte 20", err)
	}
}

// patternRouter is a router other than http.ServeMux: it records the patterns it is given.
type patternRouter struct{ patterns []string }

func (p *patternRouter) Handle(pattern string, _ http.Handler) {
	p.patterns = append(p.patterns, pattern)
}

func TestMountOnAnyRouter(t *testing.T) {
	t.Parallel()
	auth, err := appid.New(t.Context(), appid.Config{ClientID: "c", ClientSecret: "s",
		OAuthServerURL: "https://idp.example/oauth/v4/t", RedirectURL: "https://app.example/afterauth",
		IBMCloudAPIKey: "k", SessionKeys: [][]byte{make([]byte, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	var r patternRouter
	auth.Mount(&r)
	want := []string{"GET /afterauth", "GET /logout", "POST /logout", "POST /backchannel_logout"}
	if !slices.Equal(r.patterns, want) {
		t.Errorf("Mount registered %q, want %q", r.patterns, want)
	}
}
