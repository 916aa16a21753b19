package browsercookie

import (
	"net/http"
	"testing"
)

// TestRequestCookieAgreesWithNetHTTP: the session cookie reader answers what r.Cookie answers.
func TestRequestCookieAgreesWithNetHTTP(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
	}{
		{"absent", []string{"other=1"}},
		{"alone", []string{"s=abc"}},
		{"among others", []string{"a=1; s=abc; b=2"}},
		{"spaces around", []string{"a=1;   s=abc  ;b=2"}},
		{"quoted", []string{`s="abc"`}},
		{"a lone quote", []string{`s="abc`}},
		{"empty", []string{"s="}},
		{"no equals sign", []string{"s; s=abc"}},
		{"the first of two", []string{"s=first; s=second"}},
		{"across header lines", []string{"a=1", "s=abc"}},
		{"a bad byte, then a good one", []string{"s=a\\b; s=good"}},
		{"a quote inside", []string{`s=a"b`}},
		{"a control byte", []string{"s=a\x01b"}},
		{"non-ASCII", []string{"s=caf\xc3\xa9"}},
		{"a prefix of the name", []string{"ss=1; s_=2"}},
		{"base64url with dots", []string{"s=2.AbC-_d"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{Header: http.Header{"Cookie": tc.headers}}
			got, ok := Request(r, "s")
			var want string
			c, err := r.Cookie("s")
			if err == nil {
				want = c.Value
			}
			if ok != (err == nil) || got != want {
				t.Errorf("Request = %q, %v; r.Cookie = %q, %v", got, ok, want, err)
			}
		})
	}
}

// BenchmarkRequestCookie compares the session cookie reader with r.Cookie on a browser's typical Cookie header:
// the difference is why the reader exists.
func BenchmarkRequestCookie(b *testing.B) {
	r := &http.Request{Header: http.Header{"Cookie": {"_ga=GA1.1.123; theme=dark; appidgate_session=" +
		"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789; lang=en"}}}
	b.Run("Request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := Request(r, "appidgate_session"); !ok {
				b.Fatal("not found")
			}
		}
	})
	b.Run("r.Cookie", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Cookie("appidgate_session"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestValidCookieValueBytes: the bit set allows exactly RFC 6265's value bytes plus space and comma, as net/http.
func TestValidCookieValueBytes(t *testing.T) {
	for b := range 256 {
		want := b >= 0x20 && b < 0x7f && b != '"' && b != ';' && b != '\\'
		if got := validCookieValue(string([]byte{byte(b)})); got != want {
			t.Errorf("byte %#02x: valid = %v, want %v", b, got, want)
		}
	}
}
