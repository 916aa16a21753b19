package localappid

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// signingKeyBits is the RSA key size, as App ID's.
const signingKeyBits = 2048

// signingKey is one RSA key with its kid, a signer that stamps App ID's header (typ JWT, kid, ver 4), and one for
// logout tokens, explicitly typed (typ logout+jwt, kid).
type signingKey struct {
	kid          string
	priv         *rsa.PrivateKey
	signer       jose.Signer
	logoutSigner jose.Signer
}

// keyRing holds the current signing key and older keys that still verify (and stay in the JWKS) until retired.
type keyRing struct {
	tenant string
	now    func() time.Time

	mu   sync.RWMutex
	keys []*signingKey   // oldest first; the last is current
	used map[string]bool // every kid ever issued, so a retired kid is never reused
}

func newKeyRing(tenant string, first *rsa.PrivateKey, now func() time.Time) (*keyRing, error) {
	kr := &keyRing{tenant: tenant, now: now, used: map[string]bool{}}
	if first == nil {
		var err error
		if first, err = rsa.GenerateKey(rand.Reader, signingKeyBits); err != nil {
			return nil, fmt.Errorf("localappid: generating a signing key: %w", err)
		}
	}
	if _, err := kr.add(first); err != nil {
		return nil, err
	}
	return kr, nil
}

// add makes priv the current key under a new kid shaped like App ID's, "appId-<tenant>-<suffix>", where the
// suffix is the unix time and 8 random hex digits: a provider restarted within the same second must not publish
// its old kid for a new key, or relying parties that cached the old key refuse every new token.
func (kr *keyRing) add(priv *rsa.PrivateKey) (string, error) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	ts := kr.now().Unix()
	var kid string
	for kid == "" || kr.used[kid] {
		suffix := make([]byte, 4)
		rand.Read(suffix)
		kid = fmt.Sprintf("appId-%s-%d-%x", kr.tenant, ts, suffix)
	}
	kr.used[kid] = true
	key := jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: kid}}
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT").WithHeader("ver", 4))
	if err != nil {
		return "", fmt.Errorf("localappid: creating a signer for key %s: %w", kid, err)
	}
	logoutSigner, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", fmt.Errorf("localappid: creating a logout token signer for key %s: %w", kid, err)
	}
	kr.keys = append(kr.keys, &signingKey{kid: kid, priv: priv, signer: signer, logoutSigner: logoutSigner})
	return kid, nil
}

// current is the key new tokens are signed with.
func (kr *keyRing) current() *signingKey {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.keys[len(kr.keys)-1]
}

// publicKey finds a key that still verifies by kid.
func (kr *keyRing) publicKey(kid string) (*rsa.PublicKey, bool) {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	for _, k := range kr.keys {
		if k.kid == kid {
			return &k.priv.PublicKey, true
		}
	}
	return nil, false
}

// jwks is the public key set, current key last.
func (kr *keyRing) jwks() jose.JSONWebKeySet {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(kr.keys))}
	for _, k := range kr.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig"})
	}
	return set
}

// RotateKey generates a new RSA key and makes it current. Older keys keep verifying and stay in the JWKS until
// RetireKey removes them.
func (p *Provider) RotateKey() (kid string, err error) {
	priv, err := rsa.GenerateKey(rand.Reader, signingKeyBits)
	if err != nil {
		return "", fmt.Errorf("localappid: generating a signing key: %w", err)
	}
	return p.keys.add(priv)
}

// RetireKey removes an old key from the JWKS; tokens it signed stop verifying here. The current key cannot be retired.
func (p *Provider) RetireKey(kid string) error {
	kr := p.keys
	kr.mu.Lock()
	defer kr.mu.Unlock()
	for i, k := range kr.keys {
		if k.kid != kid {
			continue
		}
		if i == len(kr.keys)-1 {
			return fmt.Errorf("localappid: key %s is the current signing key; rotate first", kid)
		}
		kr.keys = append(kr.keys[:i:i], kr.keys[i+1:]...)
		return nil
	}
	return fmt.Errorf("localappid: no signing key with kid %q", kid)
}

// CurrentKeyID is the kid of the key new tokens are signed with.
func (p *Provider) CurrentKeyID() string { return p.keys.current().kid }

// handlePublicKeys serves the JWKS at /publickeys, as App ID does.
func (p *Provider) handlePublicKeys(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, p.keys.jwks())
}
