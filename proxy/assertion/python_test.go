package assertion_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/appidgate/appidgate/proxy"
	"github.com/appidgate/appidgate/proxy/assertion"
)

// pythonWithJWT returns a python3 that can import PyJWT and cryptography, or skips the test.
func pythonWithJWT(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, p := range candidates {
		if exec.Command(p, "-c", "import jwt, cryptography").Run() == nil {
			return p
		}
	}
	t.Skip("no python3 with PyJWT and cryptography (Debian: apt-get install python3-jwt python3-cryptography)")
	return ""
}

// TestPythonSnippet runs testdata/verify.py, the lines the docs give Python upstreams, against assertions the
// proxy signed and a JWK set served as the proxy serves it.
func TestPythonSnippet(t *testing.T) {
	t.Parallel()
	python := pythonWithJWT(t)
	snippet, err := os.ReadFile("testdata/verify.py")
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	keys := []*ecdsa.PrivateKey{key}
	srv := newJWKSServer(t, http.NotFoundHandler())
	signer := func(c proxy.AssertionConfig) *proxy.AssertionSigner {
		if c.Issuer == "" {
			c.Issuer = srv.URL
		}
		if c.Keys == nil {
			c.Keys = keys
		}
		c.Audience = cmp.Or(c.Audience, audience)
		s, err := proxy.NewAssertionSigner(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := signer(proxy.AssertionConfig{})
	mux := http.NewServeMux()
	mux.Handle(assertion.JWKSPath, s.JWKSHandler())
	srv.serve(mux)

	// The snippet verbatim, but for the two settings, plus a loop that verifies one case per input line.
	code := string(snippet)
	for old, new := range map[string]string{
		`"https://myapp.example.codeengine.appdomain.cloud"`: `"` + srv.URL + `"`,
		`"http://myapp-backend.svc.cluster.local"`:           `"` + audience + `"`,
	} {
		if !strings.Contains(code, old) {
			t.Fatalf("testdata/verify.py no longer holds %s", old)
		}
		code = strings.Replace(code, old, new, 1)
	}
	code += `
import json, sys
for line in sys.stdin:
    case = json.loads(line)
    try:
        c = verify(case["token"], case["method"], case["path"])
        print(json.dumps({"ok": True, "sub": c["sub"], "name": c.get("name"), "roles": c.get("roles")}))
    except jwt.PyJWTError as e:
        print(json.dumps({"ok": False, "error": type(e).__name__ + ": " + str(e)}))
    sys.stdout.flush()
`
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	kid, _ := assertion.KeyID(&key.PublicKey)
	past := func() time.Time { return time.Now().Add(-2 * time.Minute) }
	good := sign(t, s, "GET", "/orders")
	parts := strings.Split(good, ".")
	now := time.Now()
	claims := map[string]any{
		"iss": srv.URL, "aud": audience, "sub": "mallory", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"htm": "GET", "htu": "/orders",
	}

	type result struct {
		OK    bool     `json:"ok"`
		Sub   string   `json:"sub"`
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
		Error string   `json:"error"`
	}
	tests := []struct {
		name, token, method, path string
		ok                        bool
	}{
		{"valid", good, "GET", "/orders", true},
		{"other path", good, "GET", "/admin", false},
		{"other method", good, "POST", "/orders", false},
		{"missing", "", "GET", "/orders", false},
		{"wrong audience", sign(t, signer(proxy.AssertionConfig{Audience: "http://other"}), "GET", "/orders"), "GET", "/orders", false},
		{"wrong issuer", sign(t, signer(proxy.AssertionConfig{Issuer: "https://evil"}), "GET", "/orders"), "GET", "/orders", false},
		{"expired", sign(t, signer(proxy.AssertionConfig{Now: past}), "GET", "/orders"), "GET", "/orders", false},
		{"another key", sign(t, signer(proxy.AssertionConfig{Keys: []*ecdsa.PrivateKey{newKey(t)}}), "GET", "/orders"), "GET", "/orders", false},
		{"tampered", parts[0] + "." + b64(`{"sub":"admin"}`) + "." + parts[2], "GET", "/orders", false},
		{"HS256 with the public key", craft(t, jose.HS256, pubPEM, kid, assertion.Type, claims), "GET", "/orders", false},
		{"alg none", b64(`{"alg":"none","kid":"`+kid+`"}`) + "." + parts[1] + ".", "GET", "/orders", false},
	}
	var in bytes.Buffer
	for _, tc := range tests {
		line, _ := json.Marshal(map[string]string{"token": tc.token, "method": tc.method, "path": tc.path})
		in.Write(append(line, '\n'))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", code)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for _, tc := range tests {
		if !sc.Scan() {
			t.Fatalf("python stopped before %q:\n%s", tc.name, stderr.String())
		}
		var got result
		if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
			t.Fatalf("%s: python printed %q", tc.name, sc.Text())
		}
		switch {
		case got.OK != tc.ok:
			t.Errorf("%s: PyJWT ok=%v (%s), want %v", tc.name, got.OK, got.Error, tc.ok)
		case tc.ok && (got.Sub != alice.ID || got.Name != alice.Name || strings.Join(got.Roles, ",") != "user,admin"):
			t.Errorf("%s: PyJWT read %+v, want alice's identity", tc.name, got)
		case !tc.ok:
			t.Logf("%s: refused with %s", tc.name, got.Error)
		}
	}
}
