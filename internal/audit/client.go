package audit

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/appidgate/appidgate/internal/trusted"
)

// ClientAddresses wraps next so that audit records of its requests name the client as the trusted proxies saw
// it: the connection's peer, unless the peer is in trusted, in which case the nearest address of the
// X-Forwarded-For chain that is not itself a trusted proxy (see ClientAddress).
//
// The address is worked out only when a record is written: most requests write none. Without trusted proxies
// every record names the peer, and next is returned as it is.
func ClientAddresses(proxies []netip.Prefix, next http.Handler) http.Handler {
	if len(proxies) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := facts(r)
		v.trusted = proxies
		next.ServeHTTP(w, withFacts(r, v))
	})
}

// ClientAddress is the address of the client that sent r as far as it can be believed: the connection's peer
// when it is not a trusted proxy (whatever X-Forwarded-For says, since the client wrote it); otherwise the
// X-Forwarded-For chain read from the right, skipping trusted proxies, up to the first address that is not one
// (a client can prepend anything, so the leftmost entry is never taken on trust). An unreadable entry stops
// the walk at the last address known.
func ClientAddress(r *http.Request, trusted []netip.Prefix) string {
	peer := peerHost(r.RemoteAddr)
	addr, err := netip.ParseAddr(peer)
	if err != nil || !contains(trusted, addr) {
		return peer
	}
	client := peer
	var chain []string
	for _, line := range r.Header.Values("X-Forwarded-For") {
		chain = append(chain, strings.Split(line, ",")...)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		hop, ok := parseHop(strings.TrimSpace(chain[i]))
		if !ok {
			break
		}
		client = hop.String()
		if !contains(trusted, hop) {
			break
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, with a port or in brackets as some proxies write it.
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

// contains reports whether addr is in one of prefixes.
func contains(prefixes []netip.Prefix, addr netip.Addr) bool { return trusted.Addr(prefixes, addr) }
