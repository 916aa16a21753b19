package appid

import (
	"sync"
	"time"
)

// maxUsedStates bounds the memory of the replay guard (about 100 bytes an entry).
const maxUsedStates = 100_000

// usedStates remembers, per replica, the login states already redeemed until their login could have expired,
// so that a callback replayed with a copy of the old login cookie is refused before it reaches the provider.
//
// It is defence in depth: the login cookie is expired at the first callback and the provider redeems each code
// once, which also covers replays across replicas. So when the guard is full it forgets the oldest state rather
// than refuse logins: refusing would let anyone who finishes many logins lock everybody else out.
type usedStates struct {
	limit int

	mu    sync.Mutex
	seen  map[string]time.Time // state -> when it can be forgotten
	order []usedState          // oldest first from head; expiry grows along it, as every entry lives pendingLoginTTL
	head  int                  // order[:head] is forgotten already
}

type usedState struct {
	state string
	until time.Time
}

func newUsedStates(limit int) *usedStates {
	return &usedStates{limit: limit, seen: make(map[string]time.Time)}
}

// markUsed records state as redeemed and reports whether this was its first use.
func (u *usedStates) markUsed(state string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if until, ok := u.seen[state]; ok && now.Before(until) {
		return false
	}
	// Forget what has expired, and the oldest beyond the limit.
	for u.head < len(u.order) && (!now.Before(u.order[u.head].until) || len(u.order)-u.head >= u.limit) {
		delete(u.seen, u.order[u.head].state)
		u.order[u.head] = usedState{}
		u.head++
	}
	if u.head > len(u.order)/2 {
		// Reclaim the forgotten half, so the slice does not grow with the number of logins ever made.
		u.order = append(u.order[:0], u.order[u.head:]...)
		u.head = 0
	}
	until := now.Add(pendingLoginTTL)
	u.seen[state] = until
	u.order = append(u.order, usedState{state, until})
	return true
}
