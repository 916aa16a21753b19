package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// serverCert writes a certificate for 127.0.0.1 signed by ca, and its key, into dir; it returns their paths.
func (ca *testCA) serverCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// startTLSRedis runs redis-server with TLS only, on a free loopback port, with a certificate signed by ca, until
// the test ends; it returns the port.
func startTLSRedis(t *testing.T, ca *testCA) int {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed (.ci/run installs it)")
		}
		t.Skip("redis-server is not installed")
	}
	dir := t.TempDir()
	certFile, keyFile := ca.serverCert(t, dir)
	caFile := filepath.Join(dir, "ca.crt")
	os.WriteFile(caFile, ca.certPEM, 0o600)
	port := testkit.FreePort(t)
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", "0", "--tls-port", fmt.Sprint(port),
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", caFile,
		"--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", dir)
	var out testkit.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server does not listen on %d: %s", port, out.String())
		}
	}
}

// TestRedisOverTLSWithCA: sessions in a TLS redis-server whose certificate a CA of the test signed. The CA given
// as PEM or as base64 of PEM (as IBM's credentials hold it) connects; another CA is a readiness failure that
// names the setting; a value that is no certificate, or one given with a redis:// URL, stops the start.
func TestRedisOverTLSWithCA(t *testing.T) {
	t.Parallel()
	ca, other := newTestCA(t, "redis test CA"), newTestCA(t, "another CA")
	port := startTLSRedis(t, ca)
	rediss := fmt.Sprintf("rediss://127.0.0.1:%d/0", port)

	for _, tc := range []struct{ name, caCert string }{
		{"PEM", string(ca.certPEM)},
		{"base64 of PEM", base64.StdEncoding.EncodeToString(ca.certPEM)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startDemo(t, map[string]string{"APPIDGATE_REDIS_URL": rediss, "APPIDGATE_REDIS_CA_CERT": tc.caCert})
			b := testkit.NewBrowser(t)
			if p := b.Get(d.base + "/readyz"); p.Status != http.StatusOK || !strings.Contains(p.Body, `"redis":"ok"`) {
				t.Fatalf("/readyz: %d %s, want 200 with redis ok", p.Status, p.Body)
			}
			if p := b.SignIn(b.Get(d.base+"/auth_route"), "alice", "alice"); p.Status != http.StatusOK || p.Body != authRouteText {
				t.Fatalf("alice: %d %q", p.Status, p.Body)
			}
			if p := b.Get(d.base + "/auth_route"); p.Status != http.StatusOK {
				t.Fatalf("alice's session from Redis over TLS: %d", p.Status)
			}
		})
	}

	t.Run("wrong CA", func(t *testing.T) {
		d := startDemo(t, map[string]string{"APPIDGATE_REDIS_URL": rediss, "APPIDGATE_REDIS_CA_CERT": string(other.certPEM)})
		p := testkit.NewBrowser(t).Get(d.base + "/readyz")
		if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, `"redis":"fail"`) {
			t.Fatalf("/readyz with the wrong CA: %d %s, want 503 failing redis", p.Status, p.Body)
		}
		// The reason is logged, not served: /readyz is public.
		const want = "not signed by a trusted CA (a managed Redis needs its CA certificate): tls: failed to verify certificate: x509: certificate signed by unknown authority (APPIDGATE_REDIS_CA_CERT is not the CA of this Redis)"
		if logs := d.stdout.String() + d.stderr.String(); !strings.Contains(logs, want) {
			t.Fatalf("the log does not say why Redis is not ready (want %q):\n%s", want, logs)
		}
	})

	for _, tc := range []struct{ name, url, caCert, want string }{
		{"not a certificate", rediss, "not a certificate", "APPIDGATE_REDIS_CA_CERT: neither PEM nor base64 of PEM"},
		{"base64 of something else", rediss, base64.StdEncoding.EncodeToString([]byte("hello")),
			"APPIDGATE_REDIS_CA_CERT: no PEM CERTIFICATE block found"},
		{"redis:// URL", fmt.Sprintf("redis://127.0.0.1:%d/0", port), string(ca.certPEM),
			"APPIDGATE_REDIS_CA_CERT: set, but APPIDGATE_REDIS_URL is not a rediss:// (TLS) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr testkit.Buffer
			vars := map[string]string{"PORT": "0", "APPIDGATE_REDIS_URL": tc.url, "APPIDGATE_REDIS_CA_CERT": tc.caCert}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if code := runDemo(ctx, nil, testEnv(vars, &stdout, &stderr)); code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}
