package redisstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/appid/session/internal/storetest"
	"github.com/appidgate/appidgate/appid/session/redisstore"
)

// lockReplicas starts a real redis-server and returns n RedisStores on it, each with its own client, as n
// replicas of the app sharing one Redis, a browser holding a session saved through the first, and Redis' address.
// Lease expiry needs Redis' own clock, so these tests skip without redis-server rather than use miniredis.
func lockReplicas(t *testing.T, n int, lease time.Duration) ([]*redisstore.RedisStore, *storetest.Browser, string) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not on PATH: the session lock needs a real Redis")
	}
	addr := startRedisServer(t)
	codec := storetest.NewCodec(t, storetest.NewSecret(t))
	prefix := "test-" + rand.Text()[:8] + ":"
	stores := make([]*redisstore.RedisStore, n)
	for i := range stores {
		stores[i] = redisstore.NewRedisStore(newTestClient(t, addr), codec, redisstore.RedisOptions{KeyPrefix: prefix, LockLease: lease})
	}
	b := storetest.NewBrowser()
	storetest.Save(t, stores[0], b, []byte("alice"), session.SaveOptions{Expiry: time.Now().Add(time.Hour)})
	return stores, b, addr
}

// lockWithin takes the lock of b's session on s, waiting at most d.
func lockWithin(s *redisstore.RedisStore, b *storetest.Browser, d time.Duration) (func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return s.LockSession(b.Request().WithContext(ctx))
}

// mustLock takes the lock of b's session on s or fails the test.
func mustLock(t *testing.T, s *redisstore.RedisStore, b *storetest.Browser) func() {
	t.Helper()
	release, err := lockWithin(s, b, 5*time.Second)
	if err != nil {
		t.Fatalf("LockSession: %v", err)
	}
	return release
}

func TestRedisLockMutualExclusion(t *testing.T) {
	t.Parallel()
	stores, b, _ := lockReplicas(t, 2, 0)
	const workers, rounds = 8, 3 // per replica
	var counter, inside, maxInside atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers*rounds)
	for _, s := range stores {
		for range workers {
			wg.Go(func() {
				for range rounds {
					release, err := lockWithin(s, b, 10*time.Second)
					if err != nil {
						errs <- err
						return
					}
					if n := inside.Add(1); n > maxInside.Load() {
						maxInside.Store(n)
					}
					v := counter.Load() // read, wait, write: an update is lost unless the lock excludes the others
					time.Sleep(time.Millisecond)
					counter.Store(v + 1)
					inside.Add(-1)
					release()
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("LockSession: %v", err)
	}
	if got, want := counter.Load(), int64(2*workers*rounds); got != want {
		t.Errorf("counter = %d after %d locked increments: updates were lost", got, want)
	}
	if m := maxInside.Load(); m > 1 {
		t.Errorf("%d holders were inside the lock at once", m)
	}
}

func TestRedisLockIsPerSession(t *testing.T) {
	t.Parallel()
	stores, alice, _ := lockReplicas(t, 2, 0)
	bob := storetest.NewBrowser()
	storetest.Save(t, stores[0], bob, []byte("bob"), session.SaveOptions{Expiry: time.Now().Add(time.Hour)})
	defer mustLock(t, stores[0], alice)()
	release, err := lockWithin(stores[1], bob, time.Second)
	if err != nil {
		t.Fatalf("lock of bob's session while alice's is held: %v", err)
	}
	release()
}

func TestRedisLockRenewedWhileHeld(t *testing.T) {
	t.Parallel()
	const lease = 150 * time.Millisecond
	stores, b, _ := lockReplicas(t, 2, lease)
	release := mustLock(t, stores[0], b)
	acquired := make(chan time.Time, 1)
	go func() {
		if r, err := lockWithin(stores[1], b, 10*time.Second); err == nil {
			acquired <- time.Now()
			r()
		}
		close(acquired)
	}()
	select {
	case <-acquired:
		t.Fatalf("another replica took the lock while its holder still ran, within 4 leases of %v", lease)
	case <-time.After(4 * lease):
	}
	released := time.Now()
	release()
	at, ok := <-acquired
	if !ok {
		t.Fatal("the waiting replica never took the released lock")
	}
	if wait := at.Sub(released); wait > 500*time.Millisecond {
		t.Errorf("the waiter took the released lock %v after the release, want within 500ms", wait)
	}
}

func TestRedisLockCrashedHolderExpires(t *testing.T) {
	t.Parallel()
	const lease = 200 * time.Millisecond
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not on PATH: the session lock needs a real Redis")
	}
	addr := startRedisServer(t)
	codec := storetest.NewCodec(t, storetest.NewSecret(t))
	opts := redisstore.RedisOptions{KeyPrefix: "test-" + rand.Text()[:8] + ":", LockLease: lease}
	crashing := newTestClient(t, addr)
	holder := redisstore.NewRedisStore(crashing, codec, opts)
	waiter := redisstore.NewRedisStore(newTestClient(t, addr), codec, opts)
	b := storetest.NewBrowser()
	storetest.Save(t, holder, b, []byte("alice"), session.SaveOptions{Expiry: time.Now().Add(time.Hour)})

	release := mustLock(t, holder, b)
	taken := time.Now()
	crashing.Close() // the replica is gone: it neither renews nor releases
	got, err := lockWithin(waiter, b, 5*time.Second)
	if err != nil {
		t.Fatalf("waiter after the holder crashed: %v", err)
	}
	defer got()
	if waited := time.Since(taken); waited < lease/2 {
		t.Errorf("the waiter got in %v after a crash, before the %v lease could run out", waited, lease)
	}
	release() // the crashed holder's release reaches no Redis and must not matter
}

func TestRedisLockReleaseLeavesAnotherHoldersLock(t *testing.T) {
	t.Parallel()
	stores, b, addr := lockReplicas(t, 3, 300*time.Millisecond)
	first := mustLock(t, stores[0], b)
	// The first holder's lease runs out while it is cut off from Redis; here the lock key is removed directly.
	admin := newTestClient(t, addr)
	keys, err := admin.Keys(context.Background(), "*lock:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("lock keys = %q, %v; want one", keys, err)
	}
	admin.Del(context.Background(), keys[0])
	second := mustLock(t, stores[1], b)

	first()
	first() // release twice is harmless
	if r, err := lockWithin(stores[2], b, 200*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		if r != nil {
			r()
		}
		t.Fatalf("lock after the old holder's release = %v, want it still held by the new holder (deadline exceeded)", err)
	}
	second()
	mustLock(t, stores[2], b)()
}

func TestRedisLockWaitEnds(t *testing.T) {
	t.Parallel()
	stores, b, _ := lockReplicas(t, 2, 0)
	defer mustLock(t, stores[0], b)()
	for _, tc := range []struct {
		name    string
		request func() *http.Request
		want    error
	}{
		{name: "deadline", want: context.DeadlineExceeded, request: func() *http.Request {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			t.Cleanup(cancel)
			return b.Request().WithContext(ctx)
		}},
		{name: "cancel", want: context.Canceled, request: func() *http.Request {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return b.Request().WithContext(ctx)
		}},
		{name: "already cancelled", want: context.Canceled, request: func() *http.Request {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return b.Request().WithContext(ctx)
		}},
		{name: "no session", want: session.ErrNoSession, request: func() *http.Request { return storetest.NewBrowser().Request() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			release, err := stores[1].LockSession(tc.request())
			if !errors.Is(err, tc.want) || release != nil {
				t.Fatalf("LockSession = %v, %v; want no release and %v", release != nil, err, tc.want)
			}
			if !strings.Contains(err.Error(), "session: redis lock") {
				t.Errorf("error %q does not name the redis lock", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("LockSession returned %v after its context ended", d)
			}
		})
	}
}
