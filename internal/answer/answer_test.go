package answer

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestNavigation(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    bool
	}{
		{"plain browser navigation", map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
			"Sec-Fetch-Mode": "navigate"}, true},
		{"no headers at all (curl)", nil, true},
		{"JSON API client", map[string]string{"Accept": "application/json"}, false},
		{"JSON and HTML accepted", map[string]string{"Accept": "application/json, text/html"}, true},
		{"fetch() from a page", map[string]string{"Sec-Fetch-Mode": "cors"}, false},
		{"jQuery XHR", map[string]string{"X-Requested-With": "XMLHttpRequest"}, false},
		{"Authorization header", map[string]string{"Authorization": "Bearer x"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/auth_route", nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			if got := Navigation(r); got != tc.want {
				t.Errorf("Navigation = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAcceptsHTML(t *testing.T) {
	for _, tc := range []struct {
		accept string
		want   bool
	}{
		{"text/html,application/xhtml+xml,*/*;q=0.8", true},
		{"", false},
		{"*/*", false},
		{"application/json", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", tc.accept)
		if got := AcceptsHTML(r); got != tc.want {
			t.Errorf("AcceptsHTML with Accept %q = %v, want %v", tc.accept, got, tc.want)
		}
	}
}

// TestJSON checks the error answers' exact bytes: clients and tests compare them, and the text must be JSON
// whatever it holds.
func TestJSON(t *testing.T) {
	for _, tc := range []struct {
		name      string
		write     func(w http.ResponseWriter)
		status    int
		challenge string
		body      string
	}{
		{"login required", func(w http.ResponseWriter) { Unauthorized(w, "") }, 401, `Bearer realm="appidgate"`,
			`{"error":"unauthorized","error_description":"login required"}` + "\n"},
		{"invalid token", func(w http.ResponseWriter) { Unauthorized(w, "invalid_token") }, 401,
			`Bearer realm="appidgate", error="invalid_token"`,
			`{"error":"unauthorized","error_description":"login required"}` + "\n"},
		{"quotes and controls", func(w http.ResponseWriter) { JSON(w, 502, Code(502), "a \"b\"\x01\u00e9") }, 502, "",
			`{"error":"server_error","error_description":"a \"b\"\u0001é"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.write(rec)
			if rec.Code != tc.status || rec.Body.String() != tc.body {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tc.status, tc.body)
			}
			h := rec.Header()
			if h.Get("WWW-Authenticate") != tc.challenge || h.Get("Content-Type") != "application/json" ||
				h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", h)
			}
		})
	}
}
