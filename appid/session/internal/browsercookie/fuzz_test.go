package browsercookie

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzRequestCookie checks the hand-written cookie reader against net/http: on every Cookie header that
// http.ParseCookie accepts, Request finds the same first value for a valid name as r.Cookie does.
// Seeds: testdata/fuzz/FuzzRequestCookie.
func FuzzRequestCookie(f *testing.F) {
	f.Fuzz(func(t *testing.T, header, name string) {
		r := &http.Request{Header: http.Header{"Cookie": {header}}}
		got, gotOK := Request(r, name) // must not panic, whatever the header
		if _, err := http.ParseCookie(header); err != nil || !validCookieName(name) {
			return
		}
		want, err := r.Cookie(name)
		if wantOK := err == nil; gotOK != wantOK || (wantOK && got != want.Value) {
			t.Fatalf("Cookie %q, name %q: Request = %q, %v; r.Cookie = %v, %v", header, name, got, gotOK, want, err)
		}
	})
}

// validCookieName reports whether name is an RFC 6265 token, as net/http requires of cookie names.
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}
