package management

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// tokens is a TokenSource that hands out numbered tokens and records invalidations.
type tokens struct {
	mu          sync.Mutex
	n           int
	current     string
	invalidated []string
	err         error
}

func (s *tokens) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	if s.current == "" {
		s.n++
		s.current = fmt.Sprintf("iam-%d", s.n)
	}
	return s.current, nil
}

func (s *tokens) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, token)
	if s.current == token {
		s.current = ""
	}
}

// fakeAppID serves the management API for one user and refuses tokens not in accepted.
type fakeAppID struct {
	mu       sync.Mutex
	accepted map[string]bool
	roles    map[string][]string // user id -> role ids
	requests []string
	status   int // when non-zero, every request answers it
}

var roleNames = map[string]string{"r1": "user", "r2": "admin"}

func (f *fakeAppID) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /management/v4/t/users/{id}/roles", func(w http.ResponseWriter, r *http.Request) {
		var out []map[string]string
		for _, id := range f.roles[r.PathValue("id")] {
			out = append(out, map[string]string{"id": id, "name": roleNames[id]})
		}
		json.NewEncoder(w).Encode(map[string]any{"roles": out})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath())
		if f.status != 0 {
			w.WriteHeader(f.status)
			io.WriteString(w, `{"message":"something broke"}`)
			return
		}
		if !f.accepted[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_token","error_description":"token expired"}`)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func newClient(t *testing.T, f *fakeAppID, ts TokenSource) *Client {
	t.Helper()
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	return New(srv.URL+"/management/v4/t/", ts, srv.Client())
}

func TestUserRoles(t *testing.T) {
	f := &fakeAppID{accepted: map[string]bool{"iam-1": true}, roles: map[string][]string{"u-1": {"r1", "r2"}}}
	c := newClient(t, f, &tokens{})
	got, err := c.UserRoles(context.Background(), "u-1")
	if err != nil {
		t.Fatal(err)
	}
	want := []Role{{ID: "r1", Name: "user"}, {ID: "r2", Name: "admin"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestUserIDIsEscapedInPath(t *testing.T) {
	f := &fakeAppID{accepted: map[string]bool{"iam-1": true}, roles: map[string][]string{}}
	c := newClient(t, f, &tokens{})
	if _, err := c.UserRoles(context.Background(), "../roles?x=1"); err != nil {
		t.Fatal(err)
	}
	if got := f.requests[0]; got != "GET /management/v4/t/users/..%2Froles%3Fx=1/roles" {
		t.Fatalf("request line %q: the user id escaped its path segment", got)
	}
}

func TestRenewsTokenOnceOn401(t *testing.T) {
	tests := []struct {
		name         string
		accepted     map[string]bool
		wantErr      bool
		wantRequests int
		wantInvalid  []string
	}{
		{"first token accepted", map[string]bool{"iam-1": true}, false, 1, nil},
		{"first refused, renewed one accepted", map[string]bool{"iam-2": true}, false, 2, []string{"iam-1"}},
		{"both refused", map[string]bool{}, true, 2, []string{"iam-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeAppID{accepted: tc.accepted, roles: map[string][]string{"u": {"r1"}}}
			ts := &tokens{}
			c := newClient(t, f, ts)
			_, err := c.UserRoles(context.Background(), "u")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			var apiErr *Error
			if tc.wantErr && (!errors.As(err, &apiErr) || apiErr.StatusCode != 401) {
				t.Fatalf("got %v, want *Error with status 401", err)
			}
			if len(f.requests) != tc.wantRequests {
				t.Fatalf("sent %d requests, want %d", len(f.requests), tc.wantRequests)
			}
			if !reflect.DeepEqual(ts.invalidated, tc.wantInvalid) {
				t.Fatalf("invalidated %v, want %v", ts.invalidated, tc.wantInvalid)
			}
		})
	}
}

func TestFailuresAreErrorsNamingTheEndpoint(t *testing.T) {
	t.Run("server error", func(t *testing.T) {
		f := &fakeAppID{status: http.StatusInternalServerError}
		c := newClient(t, f, &tokens{})
		_, err := c.UserRoles(context.Background(), "secret-user-id")
		if err == nil || !strings.Contains(err.Error(), "GET /users/{id}/roles answered 500: something broke") {
			t.Fatalf("got %v", err)
		}
		if strings.Contains(err.Error(), "secret-user-id") {
			t.Fatalf("error %q names the user id", err)
		}
	})
	t.Run("token source fails", func(t *testing.T) {
		f := &fakeAppID{}
		c := newClient(t, f, &tokens{err: errors.New("iam down")})
		_, err := c.UserRoles(context.Background(), "u")
		if err == nil || !strings.Contains(err.Error(), "iam down") || len(f.requests) != 0 {
			t.Fatalf("got %v after %d requests", err, len(f.requests))
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c := New(srv.URL, &tokens{}, nil)
		_, err := c.UserRoles(context.Background(), "secret-user-id")
		if err == nil || strings.Contains(err.Error(), "secret-user-id") {
			t.Fatalf("got %v, want an error without the user id", err)
		}
	})
}
