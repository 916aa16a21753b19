package appid

import (
	"sync"
	"time"
)

// maxUsedStates bounds the memory of the replay guard.
const maxUsedStates = 10000

// usedStates remembers, per replica, the login states already redeemed until their login could have expired,
// so that a callback replayed with a copy of the old login cookie is refused before it reaches the provider.
// The provider's one-time codes cover replays across replicas.
type usedStates struct {
	mu   sync.Mutex
	seen map[string]time.Time // state -> when it can be forgotten
}

func newUsedStates() *usedStates {
	return &usedStates{seen: make(map[string]time.Time)}
}

// markUsed records state as redeemed and reports whether it was fresh.
func (u *usedStates) markUsed(state string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if until, ok := u.seen[state]; ok && now.Before(until) {
		return false
	}
	if len(u.seen) >= maxUsedStates {
		for s, until := range u.seen {
			if !now.Before(until) {
				delete(u.seen, s)
			}
		}
		if len(u.seen) >= maxUsedStates {
			u.seen = make(map[string]time.Time)
		}
	}
	u.seen[state] = now.Add(pendingLoginTTL)
	return true
}
