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

// minKeyRefetchInterval rate-limits JWKS fetches caused by unknown key ids, so that a stream of forged tokens
// cannot turn into a stream of requests to the provider.
const minKeyRefetchInterval = 10 * time.Second

// keySet is an oidc.KeySet over the provider's JWKS: keys are cached, fetched again when a token names an
// unknown kid (one fetch in flight, at most one per minKeyRefetchInterval).
type keySet struct {
	jwksURL func(context.Context) (string, error)
	client  *http.Client
	now     func() time.Time

	group     singleflight.Group
	mu        sync.RWMutex
	keys      []jose.JSONWebKey
	fetchedAt time.Time
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

// refresh fetches the JWKS unless one was fetched within minKeyRefetchInterval (force skips that limit only
// when no keys are loaded yet).
func (k *keySet) refresh(ctx context.Context, force bool) error {
	k.mu.RLock()
	recent := !k.fetchedAt.IsZero() && k.now().Sub(k.fetchedAt) < minKeyRefetchInterval
	k.mu.RUnlock()
	if recent && !force {
		return nil
	}
	_, err, _ := k.group.Do("jwks", func() (any, error) {
		keys, err := k.fetch(ctx)
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
