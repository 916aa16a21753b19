package expiring

import (
	"fmt"
	"testing"
	"time"
)

func TestExpiringCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	hour := now.Add(time.Hour)
	tests := []struct {
		name string
		run  func(c *Cache[int]) // on a cache of limit 3
		want map[string]int      // what get returns at now; absent keys must miss
	}{
		{"holds up to its limit", func(c *Cache[int]) {
			c.Put("a", 1, hour, now)
			c.Put("b", 2, hour, now)
			c.Put("c", 3, hour, now)
		}, map[string]int{"a": 1, "b": 2, "c": 3}},
		{"full: the oldest goes first", func(c *Cache[int]) {
			for i, k := range []string{"a", "b", "c", "d", "e"} {
				c.Put(k, i, hour, now)
			}
		}, map[string]int{"c": 2, "d": 3, "e": 4}},
		{"full: the oldest goes, and expired entries after it", func(c *Cache[int]) {
			c.Put("a", 1, hour, now)
			c.Put("b", 2, now.Add(time.Second), now)
			c.Put("c", 3, hour, now)
			c.Put("d", 4, hour, now.Add(2*time.Second)) // a goes as the oldest, b since it expired
		}, map[string]int{"c": 3, "d": 4}},
		{"a put again replaces and keeps the count", func(c *Cache[int]) {
			c.Put("a", 1, hour, now)
			c.Put("b", 2, hour, now)
			c.Put("a", 10, hour, now)
			c.Put("c", 3, hour, now)
		}, map[string]int{"a": 10, "b": 2, "c": 3}},
		{"expired entries miss", func(c *Cache[int]) {
			c.Put("a", 1, now, now.Add(-time.Minute))
			c.Put("b", 2, hour, now)
		}, map[string]int{"b": 2}},
		{"removed entries miss", func(c *Cache[int]) {
			c.Put("a", 1, hour, now)
			c.Put("b", 2, hour, now)
			c.Remove("a")
		}, map[string]int{"b": 2}},
		{"putIfAbsent keeps a live entry", func(c *Cache[int]) {
			c.Put("a", 1, hour, now)
			if c.PutIfAbsent("a", 2, hour, now) {
				panic("putIfAbsent replaced a live entry")
			}
			if !c.PutIfAbsent("b", 2, hour, now) {
				panic("putIfAbsent refused a new key")
			}
		}, map[string]int{"a": 1, "b": 2}},
		{"putIfAbsent replaces an expired entry", func(c *Cache[int]) {
			c.Put("a", 1, now, now.Add(-time.Minute))
			c.PutIfAbsent("a", 2, hour, now)
		}, map[string]int{"a": 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New[int](3)
			tc.run(c)
			for _, k := range []string{"a", "b", "c", "d", "e"} {
				got, ok := c.Get(k, now.Add(2*time.Second))
				want, wantOK := tc.want[k]
				if ok != wantOK || got != want {
					t.Errorf("get(%q) = %d, %v; want %d, %v", k, got, ok, want, wantOK)
				}
			}
			if c.Len() > 3 {
				t.Errorf("holds %d entries, limit 3", c.Len())
			}
		})
	}
}

// TestExpiringCacheMemoryStaysBounded: however many puts pass, of new keys or the same keys again behind a
// long-lived oldest entry, the cache holds at most its limit and its bookkeeping does not grow with them.
func TestExpiringCacheMemoryStaysBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := New[int](8)
	c.Put("long-lived", 0, now.Add(24*time.Hour), now)
	for i := range 10_000 {
		c.Put(fmt.Sprint(i%3), i, now.Add(time.Hour), now) // the same three keys again and again
	}
	for i := range 10_000 {
		c.Put(fmt.Sprint("new", i), i, now.Add(time.Hour), now)
	}
	if c.Len() > 8 || len(c.order) > 3*8 {
		t.Fatalf("holds %d entries in %d order slots, want at most 8 entries and a few dozen slots", c.Len(),
			len(c.order))
	}
}
