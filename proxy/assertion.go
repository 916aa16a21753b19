package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/expiring"
	"github.com/appidgate/appidgate/proxy/assertion"
)

const (
	// DefaultAssertionLifetime is how long an assertion is valid when AssertionConfig.Lifetime is zero.
	DefaultAssertionLifetime = 60 * time.Second
	// minAssertionLifetime and maxAssertionLifetime bound AssertionConfig.Lifetime; the verifier refuses
	// assertions that live longer than 5 minutes.
	minAssertionLifetime = 10 * time.Second
	maxAssertionLifetime = 5 * time.Minute
	// assertionCacheSize bounds the signed assertions kept for reuse; when full, the oldest goes first.
	assertionCacheSize = 4096
	// maxCachedPath is the longest path whose assertion is kept for reuse.
	maxCachedPath = 1024
	// deriveInfo separates the assertion key derived from a session secret from every other use of it.
	deriveInfo = "appidgate assertion signing key v1 (ES256, P-256)"
)

// AssertionConfig configures an AssertionSigner.
type AssertionConfig struct {
	// Issuer is the proxy's public origin, e.g. "https://myapp.example.com": the assertion's iss. Required.
	Issuer string
	// Audience is the assertion's aud: the upstream's origin unless the operator names another. Required.
	Audience string
	// Keys are P-256 private keys; the first signs and all are published in the JWK set, so that a key can be
	// rotated. Replicas must share them (ParseAssertionKeys, DeriveAssertionKeys): the JWK set a replica
	// serves holds only its own keys, and an upstream fetching it through a load balancer reaches any
	// replica. Empty means one key generated now, which works only with a single replica.
	Keys []*ecdsa.PrivateKey
	// Lifetime is how long an assertion is valid; zero means DefaultAssertionLifetime, between 10 s and 5 min.
	Lifetime time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// AssertionSigner signs the identity assertions the proxy sends to its upstream (see package assertion for
// the claims) and serves its public keys. It is safe for concurrent use.
//
// Signing costs an ECDSA signature, so an assertion is reused for the same user, method and path until half
// its lifetime has passed: the upstream always gets at least half the lifetime, and a captured assertion is
// never valid longer than Lifetime after it was signed, reuse or not.
type AssertionSigner struct {
	signer           jose.Signer
	issuer, audience string
	lifetime         time.Duration
	now              func() time.Time
	jwks             []byte

	cache *expiring.Cache[cachedAssertion] // reused for half their lifetime
}

// cachedAssertion is a signed assertion and when it was signed; the cache keeps it for as long as it is reused.
type cachedAssertion struct {
	token  string
	signed time.Time
}

// assertionClaims are the claims of an assertion; package assertion reads them.
type assertionClaims struct {
	Issuer   string   `json:"iss"`
	Audience string   `json:"aud"`
	Subject  string   `json:"sub"`
	Email    string   `json:"email,omitempty"`
	Name     string   `json:"name,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
	ID       string   `json:"jti"`
	Method   string   `json:"htm"`
	Path     string   `json:"htu"`
}

// NewAssertionSigner returns a signer for cfg.
func NewAssertionSigner(cfg AssertionConfig) (*AssertionSigner, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("proxy: AssertionConfig.Issuer is required (the proxy's public origin)")
	case cfg.Audience == "":
		return nil, errors.New("proxy: AssertionConfig.Audience is required (the upstream's audience)")
	case cfg.Lifetime != 0 && (cfg.Lifetime < minAssertionLifetime || cfg.Lifetime > maxAssertionLifetime):
		return nil, fmt.Errorf("proxy: assertion lifetime %v is outside %v..%v", cfg.Lifetime, minAssertionLifetime,
			maxAssertionLifetime)
	}
	keys := cfg.Keys
	if len(keys) == 0 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("proxy: generating the assertion key: %w", err)
		}
		keys = []*ecdsa.PrivateKey{k}
	}
	var set jose.JSONWebKeySet
	seen := map[string]bool{}
	for i, k := range keys {
		if k == nil {
			return nil, fmt.Errorf("proxy: assertion key %d is nil", i)
		}
		kid, err := assertion.KeyID(&k.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("proxy: assertion key %d: %w", i, err)
		}
		if !seen[kid] {
			seen[kid] = true
			set.Keys = append(set.Keys, jose.JSONWebKey{
				Key: &k.PublicKey, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig",
			})
		}
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("proxy: encoding the JWK set: %w", err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: keys[0], KeyID: set.Keys[0].KeyID}},
		(&jose.SignerOptions{}).WithType(assertion.Type))
	if err != nil {
		return nil, fmt.Errorf("proxy: assertion signer: %w", err)
	}
	s := &AssertionSigner{
		signer: signer, issuer: cfg.Issuer, audience: cfg.Audience, lifetime: cfg.Lifetime, now: cfg.Now,
		jwks: jwks, cache: expiring.New[cachedAssertion](assertionCacheSize),
	}
	if s.lifetime == 0 {
		s.lifetime = DefaultAssertionLifetime
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Sign returns the assertion for u on a request with this method and path, the path as the upstream will
// receive it (the outbound request's URL.Path, decoded, without the query). Send it in the
// assertion.Header header.
func (s *AssertionSigner) Sign(u *appid.User, method, path string) (string, error) {
	if u == nil || u.ID == "" {
		return "", errors.New("proxy: an assertion needs a user with an ID")
	}
	now := s.now()
	var buf [256]byte
	key := assertionCacheKey(buf[:0], u, method, path)
	cacheable := len(path) <= maxCachedPath
	if cacheable {
		if c, ok := s.cache.Get(string(key), now); ok && !now.Before(c.signed) {
			return c.token, nil
		}
	}
	payload, err := json.Marshal(assertionClaims{
		Issuer: s.issuer, Audience: s.audience, Subject: u.ID, Email: u.Email, Name: u.Name,
		Roles: u.Roles, Scopes: u.Scopes, IssuedAt: now.Unix(), Expiry: now.Add(s.lifetime).Unix(),
		ID: rand.Text(), Method: method, Path: path,
	})
	if err != nil {
		return "", fmt.Errorf("proxy: encoding the assertion: %w", err)
	}
	jws, err := s.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("proxy: signing the assertion: %w", err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("proxy: serializing the assertion: %w", err)
	}
	if cacheable {
		s.cache.Put(string(key), cachedAssertion{token: token, signed: now}, now.Add(s.lifetime/2), now)
	}
	return token, nil
}

// assertionCacheKey appends to b every input of an assertion but the times, each length-prefixed so that
// no two inputs share a key.
func assertionCacheKey(b []byte, u *appid.User, method, path string) []byte {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	list := func(l []string) {
		b = binary.AppendUvarint(b, uint64(len(l)))
		for _, s := range l {
			str(s)
		}
	}
	str(method)
	str(path)
	str(u.ID)
	str(u.Email)
	str(u.Name)
	list(u.Roles)
	list(u.Scopes)
	return b
}

// JWKSHandler serves the public keys as a JWK set, for GET and HEAD; mount it at assertion.JWKSPath, open to
// everyone (no login) and never forwarded to the upstream.
func (s *AssertionSigner) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodGet {
			w.Write(s.jwks)
		}
	})
}

// ParseAssertionKeys reads P-256 private keys from PEM ("PRIVATE KEY" as PKCS #8, or "EC PRIVATE KEY" as
// SEC 1, e.g. from `openssl ecparam -name prime256v1 -genkey -noout`), in order: the first signs, the others
// are only published, for rotation. Other PEM blocks (such as "EC PARAMETERS") are skipped.
func ParseAssertionKeys(data []byte) ([]*ecdsa.PrivateKey, error) {
	var keys []*ecdsa.PrivateKey
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		var k any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("proxy: assertion key PEM block %d: %w", n, err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok || ek.Curve != elliptic.P256() {
			return nil, fmt.Errorf("proxy: assertion key PEM block %d is not a P-256 (prime256v1) EC key", n)
		}
		keys = append(keys, ek)
	}
	if len(keys) == 0 {
		return nil, errors.New("proxy: no EC private key in the assertion key PEM")
	}
	return keys, nil
}

// DeriveAssertionKeys derives one P-256 key from each secret, the same on every replica given the same
// secrets: pass the session keys (appid.Config.SessionKeys), which replicas share already, so that any
// replica's JWK set verifies any replica's assertions without another secret to manage. Rotating the first
// session key rotates the signing key; the previous session keys keep their derived keys published. Each
// derived key is independent of its secret's other uses (HKDF-SHA256 with a purpose label, then FIPS 186-5
// A.2.1), but it is only as strong as the secret.
func DeriveAssertionKeys(secrets ...[]byte) ([]*ecdsa.PrivateKey, error) {
	if len(secrets) == 0 {
		return nil, errors.New("proxy: no secret to derive the assertion key from")
	}
	// n-1, for d = c mod (n-1) + 1 with c 64 bits longer than n (FIPS 186-5 A.2.1).
	nMinus1 := new(big.Int).Sub(elliptic.P256().Params().N, big.NewInt(1))
	keys := make([]*ecdsa.PrivateKey, 0, len(secrets))
	for i, secret := range secrets {
		if len(secret) < 16 {
			return nil, fmt.Errorf("proxy: secret %d is shorter than 16 bytes", i)
		}
		c, err := hkdf.Key(sha256.New, secret, nil, deriveInfo, 40)
		if err != nil {
			return nil, fmt.Errorf("proxy: deriving the assertion key: %w", err)
		}
		d := new(big.Int).SetBytes(c)
		d.Mod(d, nMinus1).Add(d, big.NewInt(1))
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d.FillBytes(make([]byte, 32)))
		if err != nil {
			return nil, fmt.Errorf("proxy: deriving the assertion key: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
