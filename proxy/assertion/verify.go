package assertion

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	// Header is the request header that carries the assertion.
	Header = "X-Appidgate-Assertion"
	// JWKSPath is where the proxy serves its public keys as a JWK set, on its own origin.
	JWKSPath = "/.well-known/appidgate/jwks.json"
	// Type is the assertion's "typ" header, which keeps other JWTs signed by the same key from passing as one.
	Type = "appidgate-assertion+jwt"
)

const (
	// DefaultClockSkew is the tolerance on iat and exp when Config.ClockSkew is zero.
	DefaultClockSkew = 10 * time.Second
	// maxClockSkew bounds Config.ClockSkew.
	maxClockSkew = 5 * time.Minute
	// maxLifetime is the longest exp-iat accepted: the proxy signs for 60 s by default and 5 min at most.
	maxLifetime = 5 * time.Minute
	// fetchTimeout bounds one JWKS fetch.
	fetchTimeout = 10 * time.Second
	// maxJWKSBytes bounds the JWKS response read.
	maxJWKSBytes = 1 << 20
	// refetchInterval is the least time between two JWKS fetches, however many unknown kids arrive.
	refetchInterval = 10 * time.Second
	// keysMaxAge is how long fetched keys are used before the JWKS is fetched again, so that a key the proxy
	// stopped publishing stops being accepted. When that fetch fails the known keys stay in use.
	keysMaxAge = 10 * time.Minute
	// checkedCacheSize bounds the assertions remembered as checked.
	checkedCacheSize = 4096
)

// ErrNoAssertion is the error Verify returns when the request carries no assertion.
var ErrNoAssertion = errors.New("assertion: no " + Header + " header")

// Config says whose assertions a Verifier accepts.
type Config struct {
	// JWKSURL is the proxy's JWK set: its origin (public, or project-internal on Code Engine) plus JWKSPath.
	// It is fetched on first use, again when an assertion names a key it lacks (at most every 10 s), and every
	// 10 minutes. Exactly one of JWKSURL and Keys is set.
	JWKSURL string
	// Keys are the proxy's public keys (P-256), for an upstream that is given them instead of fetching them.
	Keys []*ecdsa.PublicKey
	// Issuer is the proxy's public origin, the assertion's iss, e.g. "https://myapp.example.com". Required.
	Issuer string
	// Audience is the upstream's audience as the proxy was configured with it (by default the upstream's
	// origin), the assertion's aud. Required.
	Audience string
	// ClockSkew is the tolerance on iat and exp; zero means DefaultClockSkew, at most 5 minutes.
	ClockSkew time.Duration
	// HTTPClient fetches JWKSURL; nil means a client with a 10 s timeout. Each fetch is also bounded by 10 s.
	HTTPClient *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Identity is the user an assertion names.
type Identity struct {
	// Subject is the user's subject id (sub).
	Subject string
	// Email and Name are empty when the proxy did not know them.
	Email string
	Name  string
	// Roles are the user's role names; Scopes the scopes granted, as the provider wrote them ("app/view").
	Roles  []string
	Scopes []string
	// ID is the assertion's jti, for logs. The proxy reuses an assertion briefly: it is not unique per request.
	ID string
	// IssuedAt and ExpiresAt are the assertion's iat and exp.
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// HasRole reports whether id holds the role name.
func (id *Identity) HasRole(name string) bool {
	for _, r := range id.Roles {
		if r == name {
			return true
		}
	}
	return false
}

// HasScope reports whether id was granted scope s. A bare scope ("view") matches the part after the last "/"
// of a granted scope ("app/view"), as appidgate's own checks do; a scope containing "/" must match in full.
func (id *Identity) HasScope(s string) bool {
	for _, g := range id.Scopes {
		if g == s {
			return true
		}
		if !strings.Contains(s, "/") {
			if i := strings.LastIndexByte(g, '/'); i >= 0 && g[i+1:] == s {
				return true
			}
		}
	}
	return false
}

// Verifier checks the assertions of incoming requests. It is safe for concurrent use.
type Verifier struct {
	issuer, audience string
	skew             time.Duration
	now              func() time.Time
	keys             *keySet

	mu      sync.Mutex
	checked map[string]checkedAssertion // by raw assertion
}

// checkedAssertion is an assertion whose signature and fixed claims were checked, and the key that signed it.
type checkedAssertion struct {
	claims *claims
	kid    string
}

// NewVerifier returns a Verifier for cfg. It makes no network call: the JWK set is fetched on first use.
func NewVerifier(cfg Config) (*Verifier, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("assertion: Config.Issuer is required (the proxy's public origin)")
	case cfg.Audience == "":
		return nil, errors.New("assertion: Config.Audience is required (the upstream's audience)")
	case (cfg.JWKSURL == "") == (len(cfg.Keys) == 0):
		return nil, errors.New("assertion: set exactly one of Config.JWKSURL and Config.Keys")
	case cfg.ClockSkew < 0 || cfg.ClockSkew > maxClockSkew:
		return nil, fmt.Errorf("assertion: Config.ClockSkew %v is outside 0..%v", cfg.ClockSkew, maxClockSkew)
	}
	v := &Verifier{
		issuer: cfg.Issuer, audience: cfg.Audience, skew: cfg.ClockSkew, now: cfg.Now,
		checked: make(map[string]checkedAssertion),
	}
	if v.skew == 0 {
		v.skew = DefaultClockSkew
	}
	if v.now == nil {
		v.now = time.Now
	}
	ks := &keySet{now: v.now, client: cfg.HTTPClient}
	if cfg.JWKSURL != "" {
		u, err := url.Parse(cfg.JWKSURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("assertion: Config.JWKSURL %q is not an http(s) URL", cfg.JWKSURL)
		}
		ks.url = cfg.JWKSURL
		if ks.client == nil {
			ks.client = &http.Client{Timeout: fetchTimeout}
		}
	} else {
		ks.keys = make(map[string]*ecdsa.PublicKey, len(cfg.Keys))
		for i, k := range cfg.Keys {
			kid, err := KeyID(k)
			if err != nil {
				return nil, fmt.Errorf("assertion: Config.Keys[%d]: %w", i, err)
			}
			ks.keys[kid] = k
		}
	}
	v.keys = ks
	return v, nil
}

// KeyID is the kid the proxy gives key: its RFC 7638 JWK thumbprint (SHA-256, base64url).
func KeyID(key *ecdsa.PublicKey) (string, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return "", errors.New("assertion: key is not a P-256 public key")
	}
	tp, err := (&jose.JSONWebKey{Key: key}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("assertion: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// claims are the assertion's claims, as the proxy writes them.
type claims struct {
	Issuer    string           `json:"iss"`
	Audience  jwt.Audience     `json:"aud"`
	Subject   string           `json:"sub"`
	Email     string           `json:"email"`
	Name      string           `json:"name"`
	Roles     []string         `json:"roles"`
	Scopes    []string         `json:"scopes"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	ID        string           `json:"jti"`
	Method    string           `json:"htm"`
	Path      string           `json:"htu"`
}

// Verify checks the assertion r carries and returns the identity it names. It refuses an assertion that is
// missing (ErrNoAssertion) or sent twice, not a JWT signed with ES256 by one of the proxy's keys, of another
// type, issuer or audience, expired, issued in the future or for longer than 5 minutes, or made for another
// method or path than r's.
func (v *Verifier) Verify(r *http.Request) (*Identity, error) {
	vals := r.Header.Values(Header)
	switch {
	case len(vals) == 0 || (len(vals) == 1 && vals[0] == ""):
		return nil, ErrNoAssertion
	case len(vals) > 1:
		return nil, fmt.Errorf("assertion: %d %s headers, want one", len(vals), Header)
	}
	c, err := v.verified(r.Context(), vals[0])
	if err != nil {
		return nil, err
	}
	now := v.now()
	switch {
	case now.Add(-v.skew).After(c.Expiry.Time()):
		return nil, fmt.Errorf("assertion: expired at %v", c.Expiry.Time().UTC())
	case now.Add(v.skew).Before(c.IssuedAt.Time()):
		return nil, fmt.Errorf("assertion: issued in the future, at %v", c.IssuedAt.Time().UTC())
	case c.NotBefore != nil && now.Add(v.skew).Before(c.NotBefore.Time()):
		return nil, fmt.Errorf("assertion: not valid before %v", c.NotBefore.Time().UTC())
	case c.Method != r.Method:
		return nil, fmt.Errorf("assertion: made for method %q, request is %q", c.Method, r.Method)
	case c.Path != r.URL.Path:
		return nil, fmt.Errorf("assertion: made for path %q, request is %q", c.Path, r.URL.Path)
	}
	return &Identity{
		// Copies: the claims are shared by every request that carries the same assertion.
		Subject: c.Subject, Email: c.Email, Name: c.Name, Roles: slices.Clone(c.Roles), Scopes: slices.Clone(c.Scopes), ID: c.ID,
		IssuedAt: c.IssuedAt.Time(), ExpiresAt: c.Expiry.Time(),
	}, nil
}

// verified returns the claims of raw once its signature, type, issuer, audience, subject and lifetime are
// checked: the checks that do not depend on the time or the request. As the proxy reuses an assertion for a
// while, a checked one is remembered, so that its signature is checked once; it stays accepted while its key
// is still known.
func (v *Verifier) verified(ctx context.Context, raw string) (*claims, error) {
	v.mu.Lock()
	ca, ok := v.checked[raw]
	v.mu.Unlock()
	if ok && v.keys.known(ca.kid) {
		return ca.claims, nil
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, fmt.Errorf("assertion: not an ES256 JWT: %w", err)
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("assertion: want exactly one signature")
	}
	hdr := tok.Headers[0]
	if typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string); typ != Type {
		return nil, fmt.Errorf("assertion: typ %q, want %q", typ, Type)
	}
	if hdr.KeyID == "" {
		return nil, errors.New("assertion: no kid in the header")
	}
	key, err := v.keys.key(ctx, hdr.KeyID)
	if err != nil {
		return nil, err
	}
	c := new(claims)
	if err := tok.Claims(key, c); err != nil {
		return nil, fmt.Errorf("assertion: bad signature or claims: %w", err)
	}
	switch {
	case c.Issuer != v.issuer:
		return nil, fmt.Errorf("assertion: issued by a different proxy, expected %q got %q", v.issuer, c.Issuer)
	case !c.Audience.Contains(v.audience):
		return nil, fmt.Errorf("assertion: for a different audience, expected %q got %q", v.audience, []string(c.Audience))
	case c.Subject == "":
		return nil, errors.New("assertion: no sub")
	case c.IssuedAt == nil || c.Expiry == nil:
		return nil, errors.New("assertion: iat and exp are required")
	case c.Expiry.Time().Sub(c.IssuedAt.Time()) > maxLifetime:
		return nil, fmt.Errorf("assertion: lifetime %v exceeds %v", c.Expiry.Time().Sub(c.IssuedAt.Time()), maxLifetime)
	}
	now := v.now()
	v.mu.Lock()
	if len(v.checked) >= checkedCacheSize {
		for k, old := range v.checked { // drop the expired ones, or all when none has
			if now.Add(-v.skew).After(old.claims.Expiry.Time()) {
				delete(v.checked, k)
			}
		}
		if len(v.checked) >= checkedCacheSize {
			clear(v.checked)
		}
	}
	v.checked[raw] = checkedAssertion{claims: c, kid: hdr.KeyID}
	v.mu.Unlock()
	return c, nil
}

// Middleware answers 401 to a request without a valid assertion and otherwise calls next with the identity in
// the request context (IdentityFrom). The 401 does not say what was wrong; call Verify to know.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := v.Verify(r)
		if err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "401 Unauthorized: missing or invalid identity assertion\n")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

type identityKey struct{}

// IdentityFrom returns the identity Middleware verified for this request.
func IdentityFrom(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(*Identity)
	return id, ok && id != nil
}

// keySet holds the proxy's public keys by kid, fetched from url (or given, when url is empty).
type keySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu        sync.Mutex
	keys      map[string]*ecdsa.PublicKey
	fetchedAt time.Time     // of the keys in use
	triedAt   time.Time     // of the last fetch, successful or not
	lastErr   error         // of the last fetch
	inflight  chan struct{} // closed when the fetch in flight ends
}

// known reports whether kid names a key in use, without fetching.
func (s *keySet) known(kid string) bool {
	if s.url == "" {
		return s.keys[kid] != nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[kid] != nil
}

// key returns the key named kid, fetching the JWK set when kid is unknown or the keys are old, one fetch at a
// time and at most every refetchInterval.
func (s *keySet) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	if s.url == "" {
		if k, ok := s.keys[kid]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("assertion: unknown key %q", kid)
	}
	s.mu.Lock()
	for {
		k, known := s.keys[kid]
		now := s.now()
		if known && now.Sub(s.fetchedAt) < keysMaxAge {
			s.mu.Unlock()
			return k, nil
		}
		if ch := s.inflight; ch != nil {
			s.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return nil, fmt.Errorf("assertion: waiting for the JWK set: %w", ctx.Err())
			}
			s.mu.Lock()
			continue
		}
		if !s.triedAt.IsZero() && now.Sub(s.triedAt) < refetchInterval {
			err := s.lastErr
			s.mu.Unlock()
			switch {
			case known: // stale, and the JWK set cannot be fetched now
				return k, nil
			case err != nil:
				return nil, fmt.Errorf("assertion: unknown key %q (JWK set unavailable: %v)", kid, err)
			}
			return nil, fmt.Errorf("assertion: unknown key %q", kid)
		}
		ch := make(chan struct{})
		s.inflight, s.triedAt = ch, now
		s.mu.Unlock()
		keys, err := s.fetch()
		s.mu.Lock()
		if err == nil {
			s.keys, s.fetchedAt = keys, s.now()
		}
		s.lastErr, s.inflight = err, nil
		close(ch)
	}
}

// fetch gets and parses the JWK set. It is detached from any one request, so that a client that goes away
// does not fail the fetch for the others waiting on it.
func (s *keySet) fetch() (map[string]*ecdsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("assertion: JWK set request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("assertion: fetching the JWK set: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("assertion: reading the JWK set: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("assertion: JWK set %s answered %s", s.url, resp.Status)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("assertion: JWK set %s is larger than %d bytes", s.url, maxJWKSBytes)
	}
	return parseJWKS(body)
}

// parseJWKS returns the P-256 signing keys of a JWK set by kid, skipping members of other kinds.
func parseJWKS(body []byte) (map[string]*ecdsa.PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("assertion: JWK set: %w", err)
	}
	keys := make(map[string]*ecdsa.PublicKey, len(set.Keys))
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if json.Unmarshal(raw, &k) != nil || k.KeyID == "" || !k.IsPublic() ||
			(k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != string(jose.ES256)) {
			continue
		}
		if pub, ok := k.Key.(*ecdsa.PublicKey); ok && pub.Curve == elliptic.P256() {
			keys[k.KeyID] = pub
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("assertion: JWK set holds no ES256 key")
	}
	return keys, nil
}
