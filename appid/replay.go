package appid

import (
	"time"

	"github.com/appidgate/appidgate/internal/expiring"
)

// maxUsedStates bounds the memory of the replay guard (about 100 bytes an entry).
const maxUsedStates = 100_000

// usedStates remembers, per replica, the login states already redeemed until their login could have expired,
// so that a callback replayed with a copy of the old login cookie is refused before it reaches the provider.
//
// It is defence in depth: the login cookie is expired at the first callback and the provider redeems each code
// once, which also covers replays across replicas. So when the guard is full it forgets the oldest state (the
// rule of expiring.Cache) rather than refuse logins: refusing would let anyone who finishes many logins lock
// everybody else out.
type usedStates struct {
	seen *expiring.Cache[struct{}]
}

func newUsedStates(limit int) *usedStates {
	return &usedStates{seen: expiring.New[struct{}](limit)}
}

// markUsed records state as redeemed and reports whether this was its first use.
func (u *usedStates) markUsed(state string, now time.Time) bool {
	return u.seen.PutIfAbsent(state, struct{}{}, now.Add(pendingLoginTTL), now)
}
