package localappid

import (
	"net"
	"net/url"
)

// allowsRedirect reports whether uri is registered for the client, both at /authorization and at the SSO logout
// (App ID keeps one allow-list for both): an exact string match, or, when the client has LoopbackAnyPort, an http loopback URI whose path equals a registered loopback URI's path (any loopback host,
// any port), with no query, fragment or user info.
func (c *Client) allowsRedirect(uri string) bool {
	for _, r := range c.RedirectURIs {
		if r == uri {
			return true
		}
	}
	if !c.LoopbackAnyPort || !plainURI(uri) {
		return false
	}
	u, err := url.Parse(uri)
	if err != nil || !isLoopbackHTTP(u) || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	for _, r := range c.RedirectURIs {
		reg, err := url.Parse(r)
		if err == nil && isLoopbackHTTP(reg) && reg.Path == u.Path && u.RawPath == reg.RawPath {
			return true
		}
	}
	return false
}

// isLoopbackHTTP reports whether u is http://localhost, http://127.0.0.1 or http://[::1], with any port.
func isLoopbackHTTP(u *url.URL) bool {
	if u.Scheme != "http" {
		return false
	}
	switch host := u.Hostname(); host {
	case "localhost":
		return true
	default:
		ip := net.ParseIP(host)
		return ip != nil && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
	}
}

// plainURI refuses backslashes, spaces and control characters, which browsers and url.Parse may read differently
// (a backslash read as "/", for one); a URI matched by anything looser than string equality must not contain them.
func plainURI(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '\\' || c == 0x7f {
			return false
		}
	}
	return true
}
