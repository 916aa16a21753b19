package appid

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/time/rate"
)

// Limits of the key set. JWKS fetch attempts, failed ones included, are rate-limited by a token bucket: at most
// keyFetchBurst attempts at once, then one per keyFetchInterval. A token naming a kid never seen before (a key
// rotation), or failing its signature under a known kid (a provider that restarted and reused its kid), causes a
// fetch at once while the bucket holds a token, and a flood of forged tokens causes at most keyFetchBurst
// fetches, then one per keyFetchInterval.
const (
	keyFetchBurst    = 3
	keyFetchInterval = 10 * time.Second
	// maxKeys caps the usable keys kept from one JWKS (the first ones, in document order), so that a hostile
	// JWKS cannot grow memory; the rest are skipped like unusable members.
	maxKeys = 100
	// maxSkippedReports caps the skipped JWKS members reported one by one (and remembered) per fetch.
	maxSkippedReports = 100
)

// keySet is an oidc.KeySet over the provider's JWKS. Keys are cached and fetched again when a token names an
// unknown kid or fails its signature under a known one: one fetch at a time, which every caller arriving
// meanwhile waits for and shares, within the budget of keyFetchBurst and keyFetchInterval.
type keySet struct {
	jwksURL func(context.Context) (string, error)
	client  *http.Client
	now     func() time.Time
	log     *slog.Logger

	mu       sync.Mutex
	budget   *rate.Limiter     // fetch attempts; created on first use
	keys     []jose.JSONWebKey // usable keys of the last successful fetch; replaced whole, never changed in place
	attempts uint64            // fetch attempts completed
	lastErr  error             // the outcome of the last attempt
	inflight chan struct{}     // closed when the fetch in flight completes; nil while none runs

	// reported holds the skipped members logged by or before the last fetch, and unreported how many beyond
	// maxSkippedReports it skipped: a member is logged once while it stays in the JWKS. Only the fetch in
	// flight uses them.
	reported   map[skippedKey]bool
	unreported int
}

// skippedKey is a JWKS member the key set does not use, and why.
type skippedKey struct{ kid, reason string }

// VerifySignature implements oidc.KeySet.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	// RS256 only: App ID signs nothing else, and the allow-list keeps "none" and HS* out.
	jws, err := jose.ParseSigned(jwt, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("appid: keys: malformed jwt: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("appid: keys: expected one signature, got %d", len(jws.Signatures))
	}
	kid := jws.Signatures[0].Header.KeyID
	keys, seen := k.snapshot()
	payload, known, err := verifyWith(jws, keys, kid)
	if err == nil {
		return payload, nil
	}
	// An unknown kid may be a rotation; a signature failing under a known kid may come from a provider that
	// restarted and published a new key under its old kid. Both deserve one look at the JWKS, within budget.
	if err := k.refreshSince(ctx, seen, false); err != nil {
		return nil, err
	}
	if keys, attempts := k.snapshot(); attempts != seen {
		payload, known, err = verifyWith(jws, keys, kid)
	}
	if !known {
		return nil, fmt.Errorf("appid: keys: token signed by unknown key %q", kid)
	}
	return payload, err
}

// verifyWith verifies jws with the keys named kid; known reports whether there was one.
func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey, kid string) (payload []byte, known bool, err error) {
	err = fmt.Errorf("appid: keys: token signed by unknown key %q", kid)
	for i := range keys {
		if keys[i].KeyID != kid {
			continue
		}
		known = true
		if payload, err = jws.Verify(&keys[i]); err == nil {
			return payload, true, nil
		}
	}
	return nil, known, err
}

// snapshot returns the current keys and the number of fetch attempts completed.
func (k *keySet) snapshot() ([]jose.JSONWebKey, uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys, k.attempts
}

// loaded reports whether keys have been fetched at least once.
func (k *keySet) loaded() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys) > 0
}

// refresh fetches the JWKS, within the fetch budget; force skips the budget while no keys were ever loaded
// (Ready). See refreshSince for the error.
func (k *keySet) refresh(ctx context.Context, force bool) error {
	_, seen := k.snapshot()
	return k.refreshSince(ctx, seen, force)
}

// refreshSince brings the keys up to date for a caller that saw them after seen fetch attempts: it waits for
// the fetch in flight, or returns at once if an attempt completed since, or else starts a fetch if the budget
// (or force, while no keys were ever loaded) allows. While no keys are loaded, the failure of the fetch, or the
// spent budget, is returned as errProviderUnavailable; with keys loaded it returns nil and the caller judges
// the token by the keys it has.
func (k *keySet) refreshSince(ctx context.Context, seen uint64, force bool) error {
	done, start, err := k.join(seen, force)
	switch {
	case done == nil:
		return err
	case start:
		// Detached from this caller's cancellation: every caller arriving meanwhile shares this fetch, which
		// keeps its own timeout (see fetch).
		keys, err := k.fetch(context.WithoutCancel(ctx))
		k.finish(done, keys, err)
	default:
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("%w: keys: waiting for the fetch in flight: %v", errProviderUnavailable, ctx.Err())
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.outcomeLocked()
}

// join decides how a caller that saw seen fetch attempts gets up-to-date keys: done is the fetch to wait for,
// and start tells the caller to run it; without done, err is the answer at once (see refreshSince).
func (k *keySet) join(seen uint64, force bool) (done chan struct{}, start bool, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.inflight != nil:
		return k.inflight, false, nil
	case k.attempts != seen:
		// An attempt completed since the caller looked: its outcome is the answer.
		return nil, false, k.outcomeLocked()
	case k.allowFetchLocked() || force && len(k.keys) == 0:
		k.inflight = make(chan struct{})
		return k.inflight, true, nil
	case len(k.keys) == 0:
		return nil, false, fmt.Errorf("%w: keys: none loaded and the fetch budget is spent (%d, then one per %s); "+
			"the last attempt: %v", errProviderUnavailable, keyFetchBurst, keyFetchInterval, k.lastErr)
	}
	return nil, false, nil
}

// finish records the outcome of the fetch done and wakes the callers waiting for it.
func (k *keySet) finish(done chan struct{}, keys []jose.JSONWebKey, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err == nil {
		k.keys = keys
	}
	k.lastErr = err
	k.attempts++
	k.inflight = nil
	close(done)
}

// outcomeLocked is what refreshSince returns after an attempt: its failure while no keys are loaded, else nil.
func (k *keySet) outcomeLocked() error {
	if len(k.keys) == 0 {
		return k.lastErr
	}
	return nil
}

// allowFetchLocked takes a fetch attempt from the budget, if one is left.
func (k *keySet) allowFetchLocked() bool {
	if k.budget == nil {
		k.budget = rate.NewLimiter(rate.Every(keyFetchInterval), keyFetchBurst)
	}
	return k.budget.AllowN(k.now(), 1)
}

// fetch loads the provider's JWKS and returns its usable signing keys, logging the members it skips.
func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	jwksURL, err := k.jwksURL(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, providerCallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: keys: %v", errProviderUnavailable, err)
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: keys: %v", errProviderUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderResponse))
	if err != nil {
		return nil, fmt.Errorf("%w: keys: reading %s: %v", errProviderUnavailable, jwksURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: keys: GET %s: expected status 200, got %d", errProviderUnavailable, jwksURL,
			resp.StatusCode)
	}
	keys, skipped, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("%w: keys: decoding %s: %v", errProviderUnavailable, jwksURL, err)
	}
	k.report(ctx, skipped)
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: keys: %s holds no usable signing key (RSA for RS256, not for encryption); "+
			"%d members skipped", errProviderUnavailable, jwksURL, len(skipped))
	}
	return keys, nil
}

// parseJWKS returns the usable signing keys of a JWKS document (public RSA keys for RS256, not marked for
// encryption), at most maxKeys in document order, and the members it skipped. As RFC 7517 §5 asks, members
// that cannot be parsed (an unknown kty or curve, a malformed key) are skipped, not fatal.
func parseJWKS(doc []byte) (keys []jose.JSONWebKey, skipped []skippedKey, err error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		return nil, nil, err
	}
	for _, member := range set.Keys {
		var named struct {
			Kid string `json:"kid"`
			Kty string `json:"kty"`
		}
		json.Unmarshal(member, &named) // best effort, for the log
		var key jose.JSONWebKey
		var reason string
		if err := key.UnmarshalJSON(member); err != nil {
			reason = fmt.Sprintf("kty %q: %v", named.Kty, err)
		} else if reason = unusable(&key, named.Kty); reason == "" && len(keys) == maxKeys {
			reason = fmt.Sprintf("beyond the first %d usable keys", maxKeys)
		}
		if reason != "" {
			skipped = append(skipped, skippedKey{named.Kid, reason})
			continue
		}
		keys = append(keys, key)
	}
	return keys, skipped, nil
}

// unusable says why key, of type kty, cannot verify RS256 signatures, or "" when it can.
func unusable(key *jose.JSONWebKey, kty string) string {
	switch _, rsaPublic := key.Key.(*rsa.PublicKey); {
	case key.Use == "enc":
		return "for encryption (use enc)"
	case !rsaPublic && kty == "RSA":
		return "holds a private key, where a JWKS publishes public keys"
	case !rsaPublic:
		return fmt.Sprintf("kty %q cannot verify RS256", kty)
	case key.Algorithm != "" && key.Algorithm != string(jose.RS256):
		return fmt.Sprintf("for alg %q, not RS256", key.Algorithm)
	}
	return ""
}

// report logs the skipped members, each once while it stays in the JWKS: it logs those not reported after the
// previous fetch, one by one up to maxSkippedReports, and the count of the rest when that count changes.
func (k *keySet) report(ctx context.Context, skipped []skippedKey) {
	reported := make(map[skippedKey]bool, min(len(skipped), maxSkippedReports))
	unreported := max(len(skipped)-maxSkippedReports, 0)
	for _, s := range skipped[:len(skipped)-unreported] {
		if !k.reported[s] {
			k.log.WarnContext(ctx, "appid: keys: skipping a JWKS member", "kid", truncate(s.kid, 128),
				"reason", truncate(s.reason, 256))
		}
		reported[s] = true
	}
	if unreported > 0 && unreported != k.unreported {
		k.log.WarnContext(ctx, "appid: keys: skipping further JWKS members", "count", unreported)
	}
	k.reported, k.unreported = reported, unreported
}
