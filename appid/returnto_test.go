package appid

import (
	"bufio"
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestSanitizeReturnTo(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/auth_route", "/auth_route"},
		{"/auth_route?x=1&y=%2F", "/auth_route?x=1&y=%2F"},
		{"/a/b#frag", "/a/b"},
		{"/", "/"},
		{"", "/"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/%2f%2fevil.example", "/"},
		{"/%5cevil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/a\tb", "/"},
		{"/ok?next=//evil", "/ok?next=//evil"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := sanitizeReturnTo(tc.in); got != tc.want {
				t.Errorf("sanitizeReturnTo(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// openRedirectPayloads reads the shared attack corpus, skipping the test when it is absent.
func openRedirectPayloads(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../../shared/testdata/open-redirect-payloads.txt")
	if err != nil {
		t.Skipf("open-redirect corpus not available (%v); it lives in ../../shared/testdata", err)
	}
	defer f.Close()
	var payloads []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimRight(sc.Text(), "\r"); line != "" {
			payloads = append(payloads, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return payloads
}

// assertSameOrigin fails unless target, resolved as a browser would against base, stays on base's origin.
func assertSameOrigin(t *testing.T, base *url.URL, payload, target string) {
	t.Helper()
	if !isPlainPath(target) {
		t.Errorf("payload %q: redirect target %q is not a plain same-origin path", payload, target)
		return
	}
	u, err := base.Parse(target)
	if err != nil || u.Scheme != base.Scheme || u.Host != base.Host {
		t.Errorf("payload %q: redirect target %q resolves to %v", payload, target, u)
	}
}

func TestSanitizeReturnToOpenRedirectCorpus(t *testing.T) {
	base, _ := url.Parse("https://app.example.com/")
	for _, p := range openRedirectPayloads(t) {
		assertSameOrigin(t, base, p, sanitizeReturnTo(p))
	}
}
