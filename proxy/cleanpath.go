package proxy

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pathError is why CleanPath refuses a path. Its values are constants, so refusing allocates nothing.
type pathError string

func (e pathError) Error() string { return "proxy: refused request path: " + string(e) }

const (
	errPathNotAbsolute  pathError = "does not start with /"
	errPathBadEscape    pathError = "malformed percent-escape"
	errPathEncodedSlash pathError = "encoded slash (%2F)"
	errPathDoubleEscape pathError = "percent-escape left after decoding (double encoding such as %252e)"
	errPathSemicolon    pathError = "semicolon (path parameters)"
	errPathBackslash    pathError = "backslash"
	errPathControl      pathError = "control character"
	errPathBadUTF8      pathError = "invalid UTF-8"
	errPathLookalike    pathError = "character that some servers read as '.', '/' or '\\'"
)

// CleanPath returns the path that routes are matched on: escapedPath (r.URL.EscapedPath(), or the path of an
// X-Forwarded-Uri) with anything from the first "?" or "#" dropped, percent-escapes decoded once, empty segments
// ("//") collapsed and "." and ".." segments resolved as RFC 3986 does (".." never climbs above "/"); a trailing
// slash is kept, and the empty path is "/". Matching is case-sensitive and does no Unicode normalisation.
//
// changed reports that escapedPath had empty, "." or ".." segments (encoded ones too). An upstream may read such
// a path differently from clean (not resolve "..", or take "//x" for a host), so the proxy must not forward it
// as sent: redirect the client to clean, as net/http.ServeMux does, or forward clean.
//
// A non-nil err means the proxy should answer 400 without matching. CleanPath refuses, rather than guesses at,
// what servers disagree on: an encoded slash (%2F: one server splits on it, another does not), a ";" or %3B
// (Tomcat and Spring drop ";..." path parameters, so "/public/..;/admin" is /admin to them and not to others;
// refused like Spring Security's StrictHttpFirewall), a backslash or %5C, NUL and other control characters,
// malformed escapes, a "%" that is still followed by two hex digits after decoding (double encoding, %252e),
// invalid UTF-8 (overlong forms such as %c0%af), and the fullwidth and other lookalikes of ".", "/" and "\"
// that some servers fold into ASCII.
//
// A path that is already clean and plain ASCII without escapes is returned as it is, without allocating.
func CleanPath(escapedPath string) (clean string, changed bool, err error) {
	p := escapedPath
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		return "/", false, nil
	}
	if p[0] != '/' {
		return "", false, errPathNotAbsolute
	}
	if isPlainCleanPath(p) {
		return p, false, nil
	}
	return cleanSlow(p)
}

// isPlainCleanPath reports whether p (starting with "/") is ASCII without escapes, ";", "\" or control
// characters, and has no empty (except a trailing one), "." or ".." segments.
func isPlainCleanPath(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '/':
			rest := p[i+1:]
			if rest == "" {
				continue // trailing slash
			}
			if rest[0] == '/' || isDotSegmentStart(rest) {
				return false
			}
		case c == '%' || c == ';' || c == '\\' || c < 0x20 || c >= 0x7f:
			return false
		}
	}
	return true
}

// isDotSegmentStart reports whether rest (what follows a "/") begins with a "." or ".." segment.
func isDotSegmentStart(rest string) bool {
	if rest[0] != '.' {
		return false
	}
	if len(rest) == 1 || rest[1] == '/' {
		return true
	}
	return rest[1] == '.' && (len(rest) == 2 || rest[2] == '/')
}

func cleanSlow(p string) (string, bool, error) {
	buf := make([]byte, 0, len(p))
	ascii := true
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return "", false, errPathBadEscape
			}
			c = unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 2
			if c == '/' {
				return "", false, errPathEncodedSlash
			}
		}
		switch {
		case c == ';':
			return "", false, errPathSemicolon
		case c == '\\':
			return "", false, errPathBackslash
		case c < 0x20 || c == 0x7f:
			return "", false, errPathControl
		case c >= 0x80:
			ascii = false
		}
		buf = append(buf, c)
	}
	// Every "%" in buf came from %25: one followed by two hex digits is a second layer of escaping.
	for i := 0; i+2 < len(buf); i++ {
		if buf[i] == '%' && isHex(buf[i+1]) && isHex(buf[i+2]) {
			return "", false, errPathDoubleEscape
		}
	}
	if !ascii {
		if err := checkUnicode(buf); err != nil {
			return "", false, err
		}
	}

	// Resolve segments: out always ends with "/" while segments are added.
	out := make([]byte, 1, len(buf)+1)
	out[0] = '/'
	changed, lastWasName := false, false
	for start := 1; start <= len(buf); {
		end := len(buf)
		if i := bytes.IndexByte(buf[start:], '/'); i >= 0 {
			end = start + i
		}
		seg := buf[start:end]
		last := end == len(buf)
		lastWasName = false
		switch {
		case len(seg) == 0:
			if !last {
				changed = true
			}
		case len(seg) == 1 && seg[0] == '.':
			changed = true
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			changed = true
			if len(out) > 1 {
				out = out[:bytes.LastIndexByte(out[:len(out)-1], '/')+1]
			}
		default:
			out = append(out, seg...)
			out = append(out, '/')
			lastWasName = true
		}
		start = end + 1
	}
	if lastWasName {
		out = out[:len(out)-1]
	}
	return string(out), changed, nil
}

// checkUnicode refuses invalid UTF-8, control characters and lookalikes of ".", "/" and "\".
func checkUnicode(b []byte) error {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			return errPathBadUTF8
		}
		if unicode.IsControl(r) {
			return errPathControl
		}
		switch r {
		case '\u2024', '\u2025', '\uFE52', '\uFF0E', // one and two dot leader, small and fullwidth full stop
			'\u2044', '\u2215', '\uFF0F', // fraction slash, division slash, fullwidth solidus
			'\u2216', '\u29F5', '\uFE68', '\uFF3C': // set minus, reverse solidus operator, small and fullwidth reverse solidus
			return errPathLookalike
		}
		b = b[size:]
	}
	return nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
