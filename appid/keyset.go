package appid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

// minKeyRefetchInterval rate-limits JWKS fetch attempts, failed ones included, so that a stream of forged
// tokens cannot turn into a stream of requests to the provider, up or down.
const minKeyRefetchInterval = 10 * time.Second

// keySet is an oidc.KeySet over the provider's JWKS: keys are cached, fetched again when a token names an
// unknown kid (one fetch in flight, at most one attempt per minKeyRefetchInterval).
type keySet struct {
	jwksURL func(context.Context) (string, error)
	client  *http.Client
	now     func() time.Time

	group       singleflight.Group
	mu          sync.RWMutex
	keys        []jose.JSONWebKey
	fetchedAt   time.Time // last successful fetch
	attemptedAt time.Time // last fetch attempt, successful or not
}

// keyErrorSlot receives the key set's failure to fetch keys, while none are loaded, during one verification:
// go-oidc flattens the KeySet's error into text, and the caller must still tell "provider unreachable" (503)
// from "bad token" (401).
type keyErrorSlot struct{ err error }

type keyErrorSlotKey struct{}

// withKeyErrorSlot returns ctx carrying a fresh slot for VerifySignature's key-fetch failure.
func withKeyErrorSlot(ctx context.Context) (context.Context, *keyErrorSlot) {
	slot := &keyErrorSlot{}
	return context.WithValue(ctx, keyErrorSlotKey{}, slot), slot
}

// VerifySignature implements oidc.KeySet.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	// RS256 only: App ID signs nothing else, and the allow-list keeps "none" and HS* out.
	jws, err := jose.ParseSigned(jwt, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("appid: malformed jwt: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("appid: expected one signature, got %d", len(jws.Signatures))
	}
	kid := jws.Signatures[0].Header.KeyID
	key, known := k.lookup(kid)
	if !known {
		if err := k.refresh(ctx, false); err != nil {
			// Without any key nothing can be verified: the provider is at fault. With keys loaded, an unknown
			// kid is the token's problem until the provider says otherwise.
			if slot, ok := ctx.Value(keyErrorSlotKey{}).(*keyErrorSlot); ok && !k.loaded() {
				slot.err = err
			}
			return nil, err
		}
		if key, known = k.lookup(kid); !known {
			return nil, fmt.Errorf("appid: token signed by unknown key %q", kid)
		}
	}
	return jws.Verify(key)
}

func (k *keySet) lookup(kid string) (*jose.JSONWebKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for i := range k.keys {
		if k.keys[i].KeyID == kid && k.keys[i].Use != "enc" {
			return &k.keys[i], true
		}
	}
	return nil, false
}

// loaded reports whether keys have been fetched at least once.
func (k *keySet) loaded() bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return !k.fetchedAt.IsZero()
}

// refresh fetches the JWKS unless an attempt was made within minKeyRefetchInterval; force skips that limit
// only while no keys were ever loaded (Ready). Without keys, a rate-limited refresh reports the provider
// unavailable, so that callers answer 503 rather than blaming the token.
func (k *keySet) refresh(ctx context.Context, force bool) error {
	if k.recentlyAttempted(force) {
		return k.rateLimited()
	}
	_, err, _ := k.group.Do("jwks", func() (any, error) {
		// A caller that waited for the lock may find that another fetch just happened.
		if k.recentlyAttempted(force) {
			return nil, k.rateLimited()
		}
		k.mu.Lock()
		k.attemptedAt = k.now()
		k.mu.Unlock()
		// Detached from the first caller's cancellation: every waiting request shares this fetch, which keeps
		// its own timeout (see fetch).
		keys, err := k.fetch(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		k.mu.Lock()
		k.keys, k.fetchedAt = keys, k.now()
		k.mu.Unlock()
		return nil, nil
	})
	return err
}

// recentlyAttempted reports whether a fetch attempt is too recent for another one.
func (k *keySet) recentlyAttempted(force bool) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if force && k.fetchedAt.IsZero() {
		return false
	}
	return !k.attemptedAt.IsZero() && k.now().Sub(k.attemptedAt) < minKeyRefetchInterval
}

// rateLimited returns the error of a rate-limited refresh: none when keys are loaded (the token's kid is simply
// unknown), errProviderUnavailable when there are none to verify with.
func (k *keySet) rateLimited() error {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.fetchedAt.IsZero() {
		return fmt.Errorf("%w: keys: the last fetch failed; next attempt within %s", errProviderUnavailable,
			minKeyRefetchInterval)
	}
	return nil
}

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
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("%w: keys: decoding %s: %v", errProviderUnavailable, jwksURL, err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("appid: keys: the provider's JWKS holds no keys")
	}
	return set.Keys, nil
}
