package localappid

import (
	"net/http"
	"strconv"
	"time"
)

// DefaultStoreLimit caps each of the provider's in-memory stores: authorization codes, refresh tokens (used ones
// included), login sessions, IAM tokens and revoked access tokens. A demo never needs that many live entries; at
// the cap the provider refuses new ones with a 503 rather than growing without bound or evicting live ones.
const DefaultStoreLimit = 10_000

// DefaultMaxAnonymousUsers caps the anonymous users held at once (Config.MaxAnonymousUsers).
const DefaultMaxAnonymousUsers = 1_000

// DefaultAttributeBudget bounds all users' custom attributes together, in bytes (Config.AttributeBudget).
const DefaultAttributeBudget = 64 << 20

// sweepEvery is how many additions pass between sweeps of expired entries while a store is below its cap.
const sweepEvery = 128

// expiringStore holds entries until they expire, at most limit of them. The Provider's mutex guards it.
type expiringStore[V any] struct {
	entries map[string]V
	expires func(V) time.Time
	limit   int
	adds    int
	// earliest is no later than the earliest expiry among the entries: sweeping before then frees nothing, so a
	// full store of live entries costs no scan per refused addition.
	earliest time.Time
}

func newExpiringStore[V any](limit int, expires func(V) time.Time) *expiringStore[V] {
	return &expiringStore[V]{entries: map[string]V{}, expires: expires, limit: limit}
}

func (s *expiringStore[V]) get(key string) (V, bool) {
	v, ok := s.entries[key]
	return v, ok
}

func (s *expiringStore[V]) delete(key string) { delete(s.entries, key) }

// full sweeps expired entries when the store is at its cap and reports whether it still is.
func (s *expiringStore[V]) full(now time.Time) bool {
	if len(s.entries) >= s.limit {
		s.sweep(now)
	}
	return len(s.entries) >= s.limit
}

// add stores v under key unless the store is full of unexpired entries. Now and then it sweeps expired entries
// first, so memory follows the live entries rather than the cap.
func (s *expiringStore[V]) add(now time.Time, key string, v V) bool {
	s.adds++
	if s.adds%sweepEvery == 0 {
		s.sweep(now)
	}
	if s.full(now) {
		return false
	}
	if exp := s.expires(v); len(s.entries) == 0 || exp.Before(s.earliest) {
		s.earliest = exp
	}
	s.entries[key] = v
	return true
}

// sweep deletes the entries expired at now.
func (s *expiringStore[V]) sweep(now time.Time) {
	if !now.After(s.earliest) {
		return
	}
	var next time.Time
	for k, v := range s.entries {
		exp := s.expires(v)
		if now.After(exp) {
			delete(s.entries, k)
		} else if next.IsZero() || exp.Before(next) {
			next = exp
		}
	}
	s.earliest = next
}

// retryAfter is how long until the earliest entry expires and frees a place (at least one second).
func (s *expiringStore[V]) retryAfter(now time.Time) time.Duration {
	return max(s.earliest.Sub(now).Truncate(time.Second)+time.Second, time.Second)
}

// storeFull is the OAuth answer when a store is at its cap: 503 temporarily_unavailable with Retry-After.
func storeFull(what string, retryAfter time.Duration) *oauthError {
	return &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
		description: "the provider holds too many " + what + " at the moment; try again later", retryAfter: retryAfter}
}

// setRetryAfter sets the Retry-After header in whole seconds.
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	if d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
}
