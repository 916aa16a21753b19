package trusted

import (
	"net/netip"
	"testing"
)

func TestPeer(t *testing.T) {
	prefixes := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		remote string
		want   bool
	}{
		{"10.1.2.3:5000", true},
		{"[::ffff:10.1.2.3]:5000", true}, // IPv4-mapped, as a dual-stack listener reports it
		{"[::1]:443", true},
		{"192.0.2.1:80", false},
		{"10.1.2.3", false}, // no port: not a RemoteAddr
		{"not an address", false},
		{"", false},
	} {
		if got := Peer(prefixes, tc.remote); got != tc.want {
			t.Errorf("Peer(%q) = %v, want %v", tc.remote, got, tc.want)
		}
	}
	if Peer(nil, "10.1.2.3:1") {
		t.Error("a peer is trusted with no trusted proxies")
	}
}
