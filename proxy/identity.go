package proxy

import (
	"net/http"
	"strings"

	"github.com/appidgate/appidgate/appid"
)

// IdentityHeaders says which identity headers the proxy sends to the upstream. Its zero value sends the
// X-Appidgate family only and strips the client's Authorization header.
//
// The X-Appidgate family, each header absent when its value is empty:
//
//	X-Appidgate-User      the subject (sub) of the user's tokens
//	X-Appidgate-Email     the email address
//	X-Appidgate-Name      the display name
//	X-Appidgate-Roles     the role names, comma-separated ("user,admin")
//	X-Appidgate-Scopes    the granted scopes, space-separated as OAuth writes them ("app/view app/edit")
//	X-Appidgate-Access-Token  the raw access token, with AccessToken only
//
// Their values are percent-encoded UTF-8, as URIs are: every byte that is not printable ASCII (below 0x20,
// 0x7F, and every byte of a non-ASCII character), "%" itself, and a space at either end of a value are written
// as %XX. A value of plain ASCII without "%" is unchanged, so "alice@example.com" arrives as it is and
// "Zoë" as "Zo%C3%AB". Decode with Python's urllib.parse.unquote, JavaScript's decodeURIComponent or Go's
// url.PathUnescape ("+" is never a space). In Roles and Scopes each item is encoded on its own, a "," inside
// a role and a space inside a scope included: split first, then decode each item. CR, LF and NUL can therefore
// never reach the upstream raw.
//
// The oauth2-proxy names (OAuth2Proxy and AuthRequest) carry raw UTF-8 as oauth2-proxy sends them, so that
// migrating apps read them unchanged; a value holding a control character is left out rather than altered,
// and so is a role holding "," or a control character from the Groups list.
type IdentityHeaders struct {
	// OAuth2Proxy also sets oauth2-proxy's upstream names: X-Forwarded-User (sub), X-Forwarded-Email,
	// X-Forwarded-Groups (roles, comma-separated), X-Forwarded-Preferred-Username (the preferred_username
	// claim when the user has one, else the name), and X-Forwarded-Access-Token with AccessToken.
	OAuth2Proxy bool
	// AuthRequest also sets oauth2-proxy's auth-endpoint names, for forward-auth responses that nginx copies
	// with auth_request_set: X-Auth-Request-User, -Email, -Groups, -Preferred-Username, and -Access-Token with
	// AccessToken.
	AuthRequest bool
	// AccessToken sends the access token given to Set (the proxy gives the user's User.AccessToken: the
	// session keeps it only with appid's Config.KeepAccessToken or Introspect); Set sends nothing when it is
	// given none.
	AccessToken bool
	// PassAuthorization keeps the client's Authorization header; by default Strip removes it.
	PassAuthorization bool
}

// Strip removes from h every identity header a client may have sent, in every spelling: any case, and "_" for
// "-" (WSGI and PHP fold X_Forwarded_User into the same variable as X-Forwarded-User; GHSA-vjrc-mh2v-45x6).
// It removes:
//   - every header under the proxy's own prefix X-Appidgate- (the family above and the signed assertion);
//   - oauth2-proxy's X-Forwarded-User, -Email, -Groups, -Preferred-Username, -Access-Token and
//     X-Auth-Request-User, -Email, -Groups, -Preferred-Username, -Access-Token;
//   - Authorization, unless PassAuthorization;
//   - every header whose name holds "_" and, read with "-" for "_", begins with X-Forwarded-, X-Auth-Request-,
//     X-Original-, X-Remote- or X-Real-Ip: such a name is never legitimate and only serves to shadow a header
//     a proxy sets (X_Forwarded_For for X-Forwarded-For). Other headers with underscores are kept, unlike
//     nginx, which drops them all by default.
//
// Call it on the outbound request of every route, public ones included, before Set. It allocates nothing.
func (c IdentityHeaders) Strip(h http.Header) {
	for k := range h {
		if c.stripped(k) {
			delete(h, k)
		}
	}
}

// stripped reports whether Strip removes the header named k.
func (c IdentityHeaders) stripped(k string) bool {
	if k == "" {
		return false
	}
	switch k[0] {
	case 'x', 'X':
	case 'a', 'A':
		return !c.PassAuthorization && foldedEqual(k, "authorization")
	default:
		return false
	}
	if foldedPrefix(k, "x-appidgate-") {
		return true
	}
	names := [...]string{ // lower-case, with "-"
		"x-forwarded-user", "x-forwarded-email", "x-forwarded-groups", "x-forwarded-preferred-username",
		"x-forwarded-access-token",
		"x-auth-request-user", "x-auth-request-email", "x-auth-request-groups", "x-auth-request-preferred-username",
		"x-auth-request-access-token",
	}
	for _, n := range names {
		if foldedEqual(k, n) {
			return true
		}
	}
	if strings.IndexByte(k, '_') < 0 {
		return false
	}
	for _, p := range [...]string{"x-forwarded-", "x-auth-request-", "x-original-", "x-remote-", "x-real-ip"} {
		if foldedPrefix(k, p) {
			return true
		}
	}
	return false
}

// foldedEqual reports whether k, lower-cased and with "_" read as "-", equals name (lower-case, with "-").
func foldedEqual(k, name string) bool {
	return len(k) == len(name) && foldedPrefix(k, name)
}

// foldedPrefix reports whether k, lower-cased and with "_" read as "-", begins with prefix.
func foldedPrefix(k, prefix string) bool {
	if len(k) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		b := k[i]
		switch {
		case 'A' <= b && b <= 'Z':
			b += 'a' - 'A'
		case b == '_':
			b = '-'
		}
		if b != prefix[i] {
			return false
		}
	}
	return true
}

// Set adds u's identity to h under the names c selects, replacing any value already there; accessToken is
// sent only with AccessToken and only when it is a well-formed token (printable ASCII, no spaces). Strip h
// first: Set does not remove the headers it leaves out.
func (c IdentityHeaders) Set(h http.Header, u *appid.User, accessToken string) {
	if u == nil {
		return
	}
	n := 6
	if c.OAuth2Proxy {
		n += 5
	}
	if c.AuthRequest {
		n += 5
	}
	vs := values(make([]string, 0, n))
	vs.set(h, "X-Appidgate-User", encodeValue(u.ID, 0))
	vs.set(h, "X-Appidgate-Email", encodeValue(u.Email, 0))
	vs.set(h, "X-Appidgate-Name", encodeValue(u.Name, 0))
	vs.set(h, "X-Appidgate-Roles", encodeList(u.Roles, ','))
	vs.set(h, "X-Appidgate-Scopes", encodeList(u.Scopes, ' '))
	token := ""
	if c.AccessToken && isToken(accessToken) {
		token = accessToken
	}
	vs.set(h, "X-Appidgate-Access-Token", token)
	if c.OAuth2Proxy {
		vs.setRaw(h, u, token, "X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups",
			"X-Forwarded-Preferred-Username", "X-Forwarded-Access-Token")
	}
	if c.AuthRequest {
		vs.setRaw(h, u, token, "X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups",
			"X-Auth-Request-Preferred-Username", "X-Auth-Request-Access-Token")
	}
}

// values hands out the one-element values of a request's identity headers from one backing array: one
// allocation for them all rather than one each, on every admitted request.
type values []string

// setRaw sets oauth2-proxy's names for u, values in raw UTF-8.
func (vs *values) setRaw(h http.Header, u *appid.User, token, user, email, groups, preferred, access string) {
	vs.set(h, user, rawValue(u.ID))
	vs.set(h, email, rawValue(u.Email))
	vs.set(h, groups, rawGroups(u.Roles))
	vs.set(h, preferred, rawValue(preferredUsername(u)))
	vs.set(h, access, token)
}

// set sets the canonical header name to v, or nothing when v is empty. Each value's slice is capped at its one
// element, so that adding to the header later copies it rather than writing over the next header's value.
func (vs *values) set(h http.Header, name, v string) {
	if v == "" {
		return
	}
	*vs = append(*vs, v)
	n := len(*vs)
	h[name] = (*vs)[n-1 : n : n]
}

// preferredUsername is u's preferred_username claim when it has one (bearer requests), else its name.
func preferredUsername(u *appid.User) string {
	if s, ok := u.Claims["preferred_username"].(string); ok && s != "" {
		return s
	}
	return u.Name
}

// encodeValue percent-encodes s as the IdentityHeaders doc says; sep, when not 0, is encoded too.
func encodeValue(s string, sep byte) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if mustEncode(s, i, sep) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; mustEncode(s, i, sep) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// mustEncode reports whether encodeValue writes s[i] as %XX.
func mustEncode(s string, i int, sep byte) bool {
	c := s[i]
	switch {
	case c < 0x20 || c >= 0x7F || c == '%' || (sep != 0 && c == sep):
		return true
	case c == ' ':
		return i == 0 || i == len(s)-1
	}
	return false
}

// encodeList encodes each non-empty item of items and joins them with sep.
func encodeList(items []string, sep byte) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return encodeValue(items[0], sep)
	}
	size := 0
	for _, it := range items {
		size += len(it) + 1
	}
	var b strings.Builder
	b.Grow(size) // room for the list unescaped: one allocation for most lists
	for _, it := range items {
		if it == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(sep)
		}
		b.WriteString(encodeValue(it, sep))
	}
	return b.String()
}

// rawValue is s when it holds no control character, else "".
func rawValue(s string) string {
	if hasControl(s) {
		return ""
	}
	return s
}

// rawGroups joins roles with "," as oauth2-proxy does, leaving out each role that holds "," or a control
// character: such a role would read as other roles, or could not be sent.
func rawGroups(roles []string) string {
	var b strings.Builder
	for _, r := range roles {
		if r == "" || hasControl(r) || strings.IndexByte(r, ',') >= 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r)
	}
	return b.String()
}

// hasControl reports whether s holds an ASCII control character (tab included) or DEL.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7F {
			return true
		}
	}
	return false
}

// isToken reports whether s is non-empty printable ASCII without spaces, as JWTs and opaque tokens are.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7F {
			return false
		}
	}
	return true
}
