// Package trusted answers one question for the proxy, its traces and its audit records alike: is this address
// one of the operator's trusted proxies (--trusted-proxy)?
package trusted

import "net/netip"

// Addr reports whether addr (IPv4-mapped IPv6 read as IPv4) is in one of prefixes.
func Addr(prefixes []netip.Prefix, addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Peer reports whether remoteAddr, a connection's host:port as http.Request.RemoteAddr holds it, is in one of
// prefixes; an address that does not parse never is.
func Peer(prefixes []netip.Prefix, remoteAddr string) bool {
	if len(prefixes) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(remoteAddr)
	return err == nil && Addr(prefixes, ap.Addr())
}
