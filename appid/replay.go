package appid

import (
	"sync"
	"time"
)

// maxUsedStates bounds the memory of the replay guard.
const maxUsedStates = 10000

// stateUse is the outcome of redeeming a login state.
type stateUse int

const (
	stateFresh     stateUse = iota // first use: the login may go on
	stateReplayed                  // used before and still remembered: refuse
	stateGuardFull                 // too many unexpired states to remember another: refuse, the user retries
)

// usedStates remembers, per replica, the login states already redeemed until their login could have expired,
// so that a callback replayed with a copy of the old login cookie is refused before it reaches the provider.
// The provider's one-time codes cover replays across replicas. It never forgets an unexpired state: when full
// of them it refuses new ones (fail closed) rather than forget one that could then be replayed.
type usedStates struct {
	limit int

	mu       sync.Mutex
	seen     map[string]time.Time // state -> when it can be forgotten
	earliest time.Time            // no entry of seen can be forgotten before this
}

func newUsedStates(limit int) *usedStates {
	return &usedStates{limit: limit, seen: make(map[string]time.Time)}
}

// markUsed records state as redeemed when it is fresh and there is room to remember it.
func (u *usedStates) markUsed(state string, now time.Time) stateUse {
	u.mu.Lock()
	defer u.mu.Unlock()
	if until, ok := u.seen[state]; ok && now.Before(until) {
		return stateReplayed
	}
	if len(u.seen) >= u.limit {
		if now.Before(u.earliest) {
			return stateGuardFull // nothing has expired yet: skip the scan
		}
		u.earliest = time.Time{}
		for s, until := range u.seen {
			switch {
			case !now.Before(until):
				delete(u.seen, s)
			case u.earliest.IsZero() || until.Before(u.earliest):
				u.earliest = until
			}
		}
		if len(u.seen) >= u.limit {
			return stateGuardFull
		}
	}
	until := now.Add(pendingLoginTTL)
	if u.earliest.IsZero() || until.Before(u.earliest) {
		u.earliest = until
	}
	u.seen[state] = until
	return stateFresh
}
