// Package expiring holds Cache, the one rule by which appidgate's bounded memories forget: an entry goes when
// it expires, and a full cache forgets the oldest entry first.
package expiring

import (
	"sync"
	"time"
)

// Cache is a map of entries that expire, bounded in count: an entry goes when it expires, and when the cache is
// full the oldest entry (the first put) goes to make room. Lookups take a read lock only, so that a request path
// does not serialize on it. It is safe for concurrent use.
type Cache[V any] struct {
	limit int

	mu      sync.RWMutex
	entries map[string]expiringEntry[V]
	order   []orderedKey // Put order, oldest first from head
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

// New returns an empty cache holding at most limit entries.
func New[V any](limit int) *Cache[V] {
	return &Cache[V]{limit: max(limit, 1), entries: make(map[string]expiringEntry[V])}
}

// Get returns the value under key unless it is absent or expired at now.
func (c *Cache[V]) Get(key string, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Put stores value under key until the given time, replacing what key held, and makes room when the cache is
// full by forgetting expired entries and then the oldest.
func (c *Cache[V]) Put(key string, value V, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, value, until, now)
}

// PutIfAbsent stores value under key like Put unless key holds an entry that has not expired, and reports
// whether it stored it.
func (c *Cache[V]) PutIfAbsent(key string, value V, until, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && now.Before(e.until) {
		return false
	}
	c.putLocked(key, value, until, now)
	return true
}

// Remove forgets key.
func (c *Cache[V]) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// Len is the number of entries held, expired ones not yet forgotten included.
func (c *Cache[V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

func (c *Cache[V]) putLocked(key string, value V, until, now time.Time) {
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
