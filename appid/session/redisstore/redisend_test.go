package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/appid/session/internal/storetest"
	"github.com/appidgate/appidgate/appid/session/redisstore"
)

func TestRedisEndSessions(t *testing.T) {
	t.Parallel()
	for _, backend := range redisBackends(t) {
		t.Run(backend.name, func(t *testing.T) {
			testRedisEndSessions(t, backend.client(t))
		})
	}
}

// login saves a new session for b filed under names, created at created and lasting an hour from the clock.
func login(t *testing.T, s session.Store, clk *storetest.Clock, b *storetest.Browser, data string, created time.Time, names ...string) {
	t.Helper()
	storetest.Save(t, s, b, []byte(data), session.SaveOptions{Expiry: clk.T.Add(time.Hour), Renew: true, Index: names,
		Created: created})
}

func loads(s session.Store, b *storetest.Browser) bool {
	_, err := s.Load(b.Request())
	return err == nil
}

func testRedisEndSessions(t *testing.T, client redis.UniversalClient) {
	ctx := context.Background()

	t.Run("by provider session and by user, on every replica", func(t *testing.T) {
		clk := &storetest.Clock{T: testNow}
		f := newRedisFixture(t, client, clk, false)
		// Another replica: the same Redis and prefix, its own codec (ending sessions opens none of them).
		other := redisstore.NewRedisStore(client, storetest.NewCodec(t, storetest.NewSecret(t)), redisstore.RedisOptions{KeyPrefix: f.prefix, Now: clk.Now})
		laptop, phone, bob := storetest.NewBrowser(), storetest.NewBrowser(), storetest.NewBrowser()
		login(t, f.store, clk, laptop, "alice laptop", testNow.Add(-time.Minute), "sid:op-1", "sub:alice")
		login(t, f.store, clk, phone, "alice phone", testNow, "sid:op-2", "sub:alice")
		login(t, f.store, clk, bob, "bob", testNow.Add(-time.Minute), "sid:op-3", "sub:bob")

		if n, err := other.EndSessions(ctx, "sid:op-1", time.Time{}); err != nil || n != 1 {
			t.Fatalf("EndSessions(sid:op-1) = %d, %v; want 1, nil", n, err)
		}
		if loads(f.store, laptop) || !loads(f.store, phone) || !loads(f.store, bob) {
			t.Fatalf("after ending sid:op-1: laptop %v phone %v bob %v; want only the laptop's session gone",
				loads(f.store, laptop), loads(f.store, phone), loads(f.store, bob))
		}
		// The user's sessions created up to a time: the phone's began a minute after it.
		if n, err := other.EndSessions(ctx, "sub:alice", testNow.Add(-time.Minute)); err != nil || n != 0 {
			t.Fatalf("EndSessions(sub:alice, before the phone's login) = %d, %v; want 0, nil", n, err)
		}
		if !loads(f.store, phone) {
			t.Fatal("a session created after createdUpTo ended")
		}
		// At the second of its creation it ends: "at or before".
		if n, err := other.EndSessions(ctx, "sub:alice", testNow); err != nil || n != 1 {
			t.Fatalf("EndSessions(sub:alice, the phone's login) = %d, %v; want 1, nil", n, err)
		}
		if loads(f.store, phone) || !loads(f.store, bob) {
			t.Fatalf("after ending alice's sessions: phone %v bob %v; want only bob's left", loads(f.store, phone),
				loads(f.store, bob))
		}
		// A refresh on a replica that still holds the old cookie must not bring the session back.
		if err := f.store.Save(httptest.NewRecorder(), phone.Request(), []byte("refreshed"), session.SaveOptions{
			Expiry: testNow.Add(time.Hour)}); !errors.Is(err, session.ErrNoSession) {
			t.Fatalf("update of an ended session = %v, want ErrNoSession", err)
		}
		if n, err := other.EndSessions(ctx, "sub:nobody", time.Time{}); err != nil || n != 0 {
			t.Errorf("EndSessions of an unknown name = %d, %v; want 0, nil", n, err)
		}
		if _, err := other.EndSessions(ctx, "", time.Time{}); err == nil {
			t.Error("EndSessions with an empty name succeeded, want an error")
		}
	})

	t.Run("the index lives as long as its longest session and forgets expired ones", func(t *testing.T) {
		clk := &storetest.Clock{T: testNow}
		f := newRedisFixture(t, client, clk, false)
		login(t, f.store, clk, storetest.NewBrowser(), "first", testNow, "sub:alice")
		keys := client.Keys(ctx, f.prefix+"index:*").Val()
		if len(keys) != 1 {
			t.Fatalf("index keys = %q, want one", keys)
		}
		if ttl := client.TTL(ctx, keys[0]).Val(); ttl != time.Hour {
			t.Errorf("TTL of the index = %v, want the session's 1h", ttl)
		}
		// A session with a shorter life does not shorten the index's.
		storetest.Save(t, f.store, storetest.NewBrowser(), []byte("short"), session.SaveOptions{Expiry: testNow.Add(time.Minute), Renew: true,
			Index: []string{"sub:alice"}, Created: testNow})
		if ttl := client.TTL(ctx, keys[0]).Val(); ttl != time.Hour {
			t.Errorf("after a shorter session, TTL of the index = %v, want 1h", ttl)
		}
		// Past both sessions' ends, the next login drops their members.
		clk.T = testNow.Add(2 * time.Hour)
		login(t, f.store, clk, storetest.NewBrowser(), "later", clk.T, "sub:alice")
		if n := client.ZCard(ctx, keys[0]).Val(); n != 1 {
			t.Errorf("index members after the old sessions expired = %d, want 1", n)
		}
		// The update of a session does not file it again.
		b := storetest.NewBrowser()
		login(t, f.store, clk, b, "v1", clk.T, "sub:bob")
		storetest.Save(t, f.store, b, []byte("v2"), session.SaveOptions{Expiry: clk.T.Add(time.Hour), Index: []string{"sub:bob", "sid:x"}})
		if n := len(client.Keys(ctx, f.prefix+"index:*").Val()); n != 2 {
			t.Errorf("index keys after an update = %d, want 2 (alice's and bob's)", n)
		}
	})

	t.Run("many sessions, over several reads", func(t *testing.T) {
		clk := &storetest.Clock{T: testNow}
		f := newRedisFixture(t, client, clk, false)
		const n = 1100 // more than two reads' worth
		browsers := make([]*storetest.Browser, n)
		for i := range browsers {
			browsers[i] = storetest.NewBrowser()
			created := testNow.Add(-time.Minute) // even ones end, odd ones began after createdUpTo
			if i%2 == 1 {
				created = testNow.Add(time.Minute)
			}
			login(t, f.store, clk, browsers[i], fmt.Sprint(i), created, "sub:carol")
		}
		if got, err := f.store.EndSessions(ctx, "sub:carol", testNow); err != nil || got != n/2 {
			t.Fatalf("EndSessions = %d, %v; want %d, nil", got, err, n/2)
		}
		for i, b := range browsers {
			if want := i%2 == 1; loads(f.store, b) != want {
				t.Fatalf("session %d loads = %v, want %v", i, !want, want)
			}
		}
		if got, err := f.store.EndSessions(ctx, "sub:carol", time.Time{}); err != nil || got != n/2 {
			t.Fatalf("EndSessions of all = %d, %v; want %d, nil", got, err, n/2)
		}
	})
}
