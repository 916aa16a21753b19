package appid

import (
	"net/url"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
)

// FuzzSanitizeReturnTo checks that whatever target a request names, the login returns to a path of this
// origin: one leading "/", never "//" or "/\", no control or non-ASCII characters, resolving to the app's own
// scheme and host, and unchanged when sanitized again. Seeds: testdata/fuzz/FuzzSanitizeReturnTo and
// testkit.OpenRedirectPayloads.
func FuzzSanitizeReturnTo(f *testing.F) {
	for _, p := range testkit.OpenRedirectPayloads(f) {
		f.Add(p)
	}
	base, _ := url.Parse("https://app.example.com/")
	f.Fuzz(func(t *testing.T, target string) {
		got := sanitizeReturnTo(target)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
			t.Fatalf("sanitizeReturnTo(%q) = %q: not a single-slash path", target, got)
		}
		if strings.ContainsFunc(got, isUnsafeRune) {
			t.Fatalf("sanitizeReturnTo(%q) = %q: holds a space, control, backslash or non-ASCII character", target, got)
		}
		u, err := base.Parse(got)
		if err != nil || u.Scheme != base.Scheme || u.Host != base.Host || u.User != nil {
			t.Fatalf("sanitizeReturnTo(%q) = %q resolves to %v (%v), want %s", target, got, u, err, base.Host)
		}
		if again := sanitizeReturnTo(got); again != got {
			t.Fatalf("sanitizeReturnTo(%q) = %q, but sanitizing that gives %q", target, got, again)
		}
	})
}
