package session_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/appid/session/internal/storetest"
)

// testNow is the fixed clock of these tests; nothing here sleeps.
var testNow = storetest.Start()

func TestNewCodecRejectsBadSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secrets [][]byte
		wantErr string
	}{
		{name: "none", secrets: nil, wantErr: "got none"},
		{name: "first too short", secrets: [][]byte{[]byte("short")}, wantErr: "secret 0 is 5 bytes"},
		{name: "second too short", secrets: [][]byte{storetest.NewSecret(t), make([]byte, 15)}, wantErr: "secret 1 is 15 bytes"},
		{name: "empty", secrets: [][]byte{storetest.NewSecret(t), {}}, wantErr: "secret 1 is 0 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := session.NewCodec(tc.secrets...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("NewCodec error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	c := storetest.NewCodec(t, storetest.NewSecret(t))
	tests := []struct {
		name  string
		value []byte
	}{
		{name: "empty", value: []byte{}},
		{name: "short", value: []byte("hello")},
		{name: "binary", value: []byte{0, 1, 2, 255, 254}},
		{name: "10 KB", value: bytes.Repeat([]byte("0123456789"), 1024)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sealed, err := c.Seal("session", tc.value, testNow.Add(time.Hour))
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if strings.ContainsAny(sealed, "=+/;, \"") {
				t.Errorf("sealed value %q is not cookie-safe base64url", sealed)
			}
			if len(tc.value) > 4 && strings.Contains(sealed, base64.RawURLEncoding.EncodeToString(tc.value)) {
				t.Errorf("sealed value contains the plaintext")
			}
			got, err := c.Open("session", sealed, testNow)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tc.value) {
				t.Fatalf("Open = %q, want %q", got, tc.value)
			}
		})
	}
}

func TestCodecSealIsRandomized(t *testing.T) {
	t.Parallel()
	c := storetest.NewCodec(t, storetest.NewSecret(t))
	a, _ := c.Seal("session", []byte("same"), testNow.Add(time.Hour))
	b, _ := c.Seal("session", []byte("same"), testNow.Add(time.Hour))
	if a == b {
		t.Fatal("two seals of the same value are identical; the nonce is not random")
	}
}

func TestCodecRefuses(t *testing.T) {
	t.Parallel()
	c := storetest.NewCodec(t, storetest.NewSecret(t))
	expiry := testNow.Add(time.Hour)
	sealed, err := c.Seal("session", []byte("user=alice"), expiry)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		purpose string
		sealed  string
		now     time.Time
	}{
		{name: "wrong purpose", purpose: "login-state", sealed: sealed, now: testNow},
		{name: "purpose prefix", purpose: "sessio", sealed: sealed, now: testNow},
		{name: "at expiry", purpose: "session", sealed: sealed, now: expiry},
		{name: "after expiry", purpose: "session", sealed: sealed, now: expiry.Add(time.Nanosecond)},
		{name: "empty", purpose: "session", sealed: "", now: testNow},
		{name: "not base64", purpose: "session", sealed: "!!" + sealed[2:], now: testNow},
		{name: "padded base64", purpose: "session", sealed: sealed + "==", now: testNow},
		{name: "truncated", purpose: "session", sealed: sealed[:len(sealed)-4], now: testNow},
		{name: "too short", purpose: "session", sealed: sealed[:20], now: testNow},
		{name: "extended", purpose: "session", sealed: sealed + "AAAA", now: testNow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Open(tc.purpose, tc.sealed, tc.now)
			if !errors.Is(err, session.ErrNoSession) {
				t.Fatalf("Open = %q, %v; want ErrNoSession", got, err)
			}
			if errors.Is(err, session.ErrUnknownKey) {
				t.Fatalf("Open = %v; want no ErrUnknownKey: the value names the codec's own key", err)
			}
		})
	}
}

func TestCodecRefusesAnyTamperedByte(t *testing.T) {
	t.Parallel()
	c := storetest.NewCodec(t, storetest.NewSecret(t))
	sealed, err := c.Seal("session", []byte("role=admin"), testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		for _, flip := range []byte{0x01, 0x80} {
			tampered := bytes.Clone(raw)
			tampered[i] ^= flip
			got, err := c.Open("session", base64.RawURLEncoding.EncodeToString(tampered), testNow)
			if !errors.Is(err, session.ErrNoSession) {
				t.Fatalf("byte %d ^ %#x: Open = %q, %v; want ErrNoSession", i, flip, got, err)
			}
		}
	}
}

func TestCodecKeyRotation(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret1 := storetest.NewSecret(t), storetest.NewSecret(t)
	before := storetest.NewCodec(t, oldSecret)
	during := storetest.NewCodec(t, newSecret1, oldSecret)
	after := storetest.NewCodec(t, newSecret1)
	unrelated := storetest.NewCodec(t, storetest.NewSecret(t))

	sealedOld, err := before.Seal("session", []byte("old"), testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sealedNew, err := during.Seal("session", []byte("new"), testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		codec   *session.Codec
		sealed  string
		want    string // "" means ErrNoSession and ErrUnknownKey: a rotation the codec is not part of
		comment string
	}{
		{name: "old value opens with old key second", codec: during, sealed: sealedOld, want: "old"},
		{name: "new value seals with first key", codec: after, sealed: sealedNew, want: "new"},
		{name: "old key removed", codec: after, sealed: sealedOld},
		{name: "new key unknown to old codec", codec: before, sealed: sealedNew},
		{name: "unrelated codec", codec: unrelated, sealed: sealedOld},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.codec.Open("session", tc.sealed, testNow)
			if tc.want == "" {
				if !errors.Is(err, session.ErrNoSession) || !errors.Is(err, session.ErrUnknownKey) {
					t.Fatalf("Open = %q, %v; want ErrNoSession and ErrUnknownKey", got, err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("Open = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestCodecSealRefusesMisuse(t *testing.T) {
	t.Parallel()
	c := storetest.NewCodec(t, storetest.NewSecret(t))
	if _, err := c.Seal("", []byte("x"), testNow.Add(time.Hour)); err == nil {
		t.Error("Seal with empty purpose succeeded")
	}
	if _, err := c.Seal("session", []byte("x"), time.Time{}); err == nil {
		t.Error("Seal without expiry succeeded")
	}
	if _, err := c.Seal("session", []byte("x"), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("Seal with an expiry in 2300 succeeded")
	}
	if _, err := c.Open("", "x", testNow); err == nil || errors.Is(err, session.ErrNoSession) {
		t.Errorf("Open with empty purpose = %v, want a usage error", err)
	}
}

func BenchmarkCodecOpen(b *testing.B) {
	c := storetest.NewCodec(b, storetest.NewSecret(b), storetest.NewSecret(b))
	value := bytes.Repeat([]byte("x"), 2048)
	sealed, err := c.Seal("session", value, testNow.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(value)))
	for b.Loop() {
		if _, err := c.Open("session", sealed, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCodecSeal(b *testing.B) {
	c := storetest.NewCodec(b, storetest.NewSecret(b))
	value := bytes.Repeat([]byte("x"), 2048)
	b.ReportAllocs()
	b.SetBytes(int64(len(value)))
	for b.Loop() {
		if _, err := c.Seal("session", value, testNow.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}
