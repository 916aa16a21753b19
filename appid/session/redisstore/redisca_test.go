package redisstore_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid/session/redisstore"
)

func testCAPEM(t *testing.T, name string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestParseRedisCACert: the CA arrives as PEM or, from IBM's service credentials, as base64 of PEM (possibly
// wrapped over lines); anything else is refused with a reason.
func TestParseRedisCACert(t *testing.T) {
	t.Parallel()
	one, two := testCAPEM(t, "one"), testCAPEM(t, "two")
	b64 := base64.StdEncoding.EncodeToString(append(append([]byte{}, one...), two...))
	var wrapped strings.Builder
	for s := b64; s != ""; s = s[min(64, len(s)):] {
		wrapped.WriteString(s[:min(64, len(s))] + "\n")
	}
	for _, tc := range []struct {
		name, in string
		certs    int
		err      string
	}{
		{"PEM", string(one), 1, ""},
		{"PEM with a key and two certificates", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n" + string(one) + string(two), 2, ""},
		{"base64 of PEM", b64, 2, ""},
		{"base64 wrapped over lines", wrapped.String(), 2, ""},
		{"neither", "not a certificate", 0, "neither PEM nor base64 of PEM"},
		{"base64 of no PEM", base64.StdEncoding.EncodeToString([]byte("hello")), 0, "no PEM CERTIFICATE block found"},
		{"a broken certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0, "redis CA certificate 1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, err := redisstore.ParseRedisCACert(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseRedisCACert: %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Subjects counts the certificates parsed: the pool holds none from the system.
			if n := len(pool.Subjects()); n != tc.certs {
				t.Fatalf("the pool holds %d certificates, want %d", n, tc.certs)
			}
		})
	}
	if _, err := redisstore.NewRedisClient("redis://127.0.0.1:6379/0", x509.NewCertPool()); err == nil ||
		!strings.Contains(err.Error(), "use rediss://") {
		t.Fatalf("a CA for a redis:// URL: %v, want an error saying rediss://", err)
	}
}
