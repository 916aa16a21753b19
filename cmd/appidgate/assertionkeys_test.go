package main

import (
	"crypto/ecdsa"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/proxy"
)

// TestAssertionKeysRotation: APPIDGATE_ASSERTION_SECRET may list previous secrets after the current one, so
// that a rotation in two steps (OLD,NEW then NEW,OLD) keeps every key that signed an assertion in flight
// published: the first secret signs, and both steps publish the same two keys.
func TestAssertionKeysRotation(t *testing.T) {
	const old, next = "old-assertion-secret-0123456789", "new-assertion-secret-9876543210"
	derive := func(s string) string {
		k, err := proxy.DeriveAssertionKeys([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return publicKey(t, k[0])
	}
	sessionKey := []byte("session-key-0123456789abcdef")
	tests := []struct {
		name       string
		secret     string
		wantSigner string
		wantAll    []string
	}{
		{"one secret", old, derive(old), []string{derive(old)}},
		{"step 1 signs with the old secret", old + "," + next, derive(old), []string{derive(old), derive(next)}},
		{"step 2 signs with the new secret", " " + next + " , " + old + ",", derive(next), []string{derive(next), derive(old)}},
		{"none: derived from the session key", "", derive(string(sessionKey)), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := assertionKeys(tc.secret, [][]byte{sessionKey})
			if err != nil {
				t.Fatal(err)
			}
			if got := publicKey(t, keys[0]); got != tc.wantSigner {
				t.Errorf("signing key is not the first secret's")
			}
			if tc.wantAll != nil {
				if len(keys) != len(tc.wantAll) {
					t.Fatalf("%d keys, want %d", len(keys), len(tc.wantAll))
				}
				for i, k := range keys {
					if publicKey(t, k) != tc.wantAll[i] {
						t.Errorf("key %d is not secret %d's", i, i)
					}
				}
			}
		})
	}
	if _, err := assertionKeys("long-enough-secret-0123456789,short", nil); err == nil ||
		!strings.Contains(err.Error(), "APPIDGATE_ASSERTION_SECRET") {
		t.Errorf("a short secret in the list: %v, want an error naming APPIDGATE_ASSERTION_SECRET", err)
	}
}

// publicKey is key's public key in its uncompressed encoding, for comparison.
func publicKey(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	b, err := key.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
