package session_test

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid/session"
)

// FuzzCodecOpen seals plaintext for purpose, then checks that Open gives it back only to the same purpose and key
// before expiry, and that a value changed at one character (at), or any other input (raw), is never opened
// unless it decodes to the very bytes that were sealed. Open must never panic. Seeds: testdata/fuzz/FuzzCodecOpen.
func FuzzCodecOpen(f *testing.F) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	secret := bytes.Repeat([]byte("fuzz-secret-one-"), 2)
	c, err := session.NewCodec(secret)
	if err != nil {
		f.Fatal(err)
	}
	other, err := session.NewCodec(bytes.Repeat([]byte("fuzz-secret-two-"), 2))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, purpose string, plaintext []byte, otherPurpose string, at uint16, xor byte, raw string) {
		if purpose == "" {
			if _, err := c.Open("", raw, now); err == nil {
				t.Fatal("Open with an empty purpose succeeded")
			}
			return
		}
		sealed, err := c.Seal(purpose, plaintext, now.Add(time.Hour))
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		got, err := c.Open(purpose, sealed, now)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("Open of a fresh seal = %q, %v; want %q", got, err, plaintext)
		}
		if otherPurpose != purpose && otherPurpose != "" {
			if _, err := c.Open(otherPurpose, sealed, now); err == nil {
				t.Fatalf("value sealed for %q opened for %q", purpose, otherPurpose)
			}
		}
		if _, err := other.Open(purpose, sealed, now); err == nil {
			t.Fatal("value opened by a codec without its secret")
		}
		if _, err := c.Open(purpose, sealed, now.Add(time.Hour)); err == nil {
			t.Fatal("value opened at its expiry")
		}
		sealedBytes, _ := base64.RawURLEncoding.DecodeString(sealed)
		opensOnlyIfSame := func(what, v string) {
			if _, err := c.Open(purpose, v, now); err != nil {
				return
			}
			if b, err := base64.RawURLEncoding.DecodeString(v); err != nil || !bytes.Equal(b, sealedBytes) {
				t.Fatalf("%s %q opened, but it is not the sealed value %q", what, v, sealed)
			}
		}
		if xor != 0 {
			b := []byte(sealed)
			b[int(at)%len(b)] ^= xor
			opensOnlyIfSame("changed value", string(b))
		}
		opensOnlyIfSame("arbitrary value", raw)
		opensOnlyIfSame("truncated value", sealed[:len(sealed)-1])
	})
}
