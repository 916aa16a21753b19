package appid

import (
	"sync"
	"time"
)

// expiringCache is a map of entries that expire, bounded in count. Every bounded memory of appid drops entries by
// its one rule: an entry goes when it expires, and when the cache is full the oldest entry (the first put) goes
// to make room. Lookups take a read lock only, so that the request path does not serialize on it.
type expiringCache[V any] struct {
	limit int

	mu      sync.RWMutex
	entries map[string]expiringEntry[V]
	order   []orderedKey // put order, oldest first from head
	head    int          // order[:head] is forgotten already
	seq     uint64       // numbers the puts, so that a stale order slot never removes a newer put of its key
}

type expiringEntry[V any] struct {
	value V
	until time.Time
	seq   uint64
}

type orderedKey struct {
	key string
	seq uint64
}

// newExpiringCache returns an empty cache holding at most limit entries.
func newExpiringCache[V any](limit int) *expiringCache[V] {
	return &expiringCache[V]{limit: max(limit, 1), entries: make(map[string]expiringEntry[V])}
}

// get returns the value under key unless it is absent or expired at now.
func (c *expiringCache[V]) get(key string, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// put stores value under key until the given time, replacing what key held, and makes room when the cache is
// full by forgetting expired entries and then the oldest.
func (c *expiringCache[V]) put(key string, value V, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, value, until, now)
}

// putIfAbsent stores value under key like put unless key holds an entry that has not expired, and reports
// whether it stored it.
func (c *expiringCache[V]) putIfAbsent(key string, value V, until, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && now.Before(e.until) {
		return false
	}
	c.putLocked(key, value, until, now)
	return true
}

// remove forgets key.
func (c *expiringCache[V]) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// len is the number of entries held, expired ones not yet forgotten included.
func (c *expiringCache[V]) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

func (c *expiringCache[V]) putLocked(key string, value V, until, now time.Time) {
	_, replacing := c.entries[key]
	// Forget from the oldest end: entries that expired, and the oldest while the cache is full. An entry that
	// expired out of order waits for its turn at the head; it is never returned meanwhile, and the limit bounds
	// it. Slots of keys put again or removed since are skipped.
	for c.head < len(c.order) {
		slot := c.order[c.head]
		e, ok := c.entries[slot.key]
		current := ok && e.seq == slot.seq
		if current && now.Before(e.until) && (replacing || len(c.entries) < c.limit) {
			break
		}
		if current {
			delete(c.entries, slot.key)
			replacing = replacing && slot.key != key
		}
		c.order[c.head] = orderedKey{}
		c.head++
	}
	switch {
	case c.head > len(c.order)/2:
		// Reclaim the forgotten half, so the slice does not grow with the number of puts ever made.
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	case len(c.order)-c.head >= 2*c.limit:
		// Keys put again leave stale slots behind a long-lived head: drop them.
		kept := c.order[:0]
		for _, slot := range c.order[c.head:] {
			if e, ok := c.entries[slot.key]; ok && e.seq == slot.seq {
				kept = append(kept, slot)
			}
		}
		clear(c.order[len(kept):])
		c.order, c.head = kept, 0
	}
	c.seq++
	c.entries[key] = expiringEntry[V]{value: value, until: until, seq: c.seq}
	c.order = append(c.order, orderedKey{key: key, seq: c.seq})
}
