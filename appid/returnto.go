package appid

import (
	"net/url"
	"strings"
)

// sanitizeReturnTo turns a requested target into a same-origin path with its query ("/x?y"), or "/" when the
// target could lead anywhere else: absolute URLs, scheme-relative "//host", "/\host", their percent-encoded
// variants, control characters and anything that does not parse. The fragment is dropped.
func sanitizeReturnTo(target string) string {
	if !isPlainPath(target) {
		return "/"
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil {
		return "/"
	}
	// The decoded path must be plain as well: some servers and proxies decode before they redirect.
	if !isPlainPath(u.Path) {
		return "/"
	}
	out := u.EscapedPath()
	if !isPlainPath(out) {
		return "/"
	}
	if u.RawQuery != "" {
		if strings.ContainsFunc(u.RawQuery, isUnsafeRune) {
			return "/"
		}
		out += "?" + u.RawQuery
	}
	return out
}

// isPlainPath reports whether s starts with exactly one "/" and holds no backslash, whitespace, control or
// non-ASCII character, so that no browser reads it as a host.
func isPlainPath(s string) bool {
	if len(s) == 0 || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	return !strings.ContainsFunc(s, isUnsafeRune)
}

func isUnsafeRune(r rune) bool {
	return r <= ' ' || r == '\\' || r >= 0x7f
}
