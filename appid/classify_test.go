package appid

import (
	"net/http/httptest"
	"testing"
)

func TestWantsRedirect(t *testing.T) {
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
			if got := wantsRedirect(r); got != tc.want {
				t.Errorf("wantsRedirect = %v, want %v", got, tc.want)
			}
		})
	}
}
