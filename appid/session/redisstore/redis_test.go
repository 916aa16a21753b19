package redisstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/appid/session/internal/storetest"
	"github.com/appidgate/appidgate/appid/session/redisstore"
)

// testNow is the fixed clock of these tests; nothing here sleeps.
var testNow = storetest.Start()

// redisBackend gives each test a Redis to talk to and a key prefix nobody else uses.
type redisBackend struct {
	name   string
	client func(t *testing.T) redis.UniversalClient
}

// redisBackends returns miniredis always and a real redis-server when the binary is on PATH.
func redisBackends(t *testing.T) []redisBackend {
	backends := []redisBackend{{
		name: "miniredis",
		client: func(t *testing.T) redis.UniversalClient {
			m := miniredis.RunT(t)
			return newTestClient(t, m.Addr())
		},
	}}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Log("redis-server is not on PATH: running the Redis store tests against miniredis only")
		return backends
	}
	return append(backends, redisBackend{
		name: "redis-server",
		client: func(t *testing.T) redis.UniversalClient {
			return newTestClient(t, startRedisServer(t))
		},
	})
}

func newTestClient(t *testing.T, addr string) redis.UniversalClient {
	c := redis.NewClient(&redis.Options{
		Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1, DialerRetryTimeout: time.Millisecond,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// startRedisServer runs a throwaway redis-server on a free loopback port until the calling test ends.
func startRedisServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", fmt.Sprint(port),
		"--save", "", "--appendonly", "no", "--protected-mode", "yes")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c.Ping(context.Background()).Err() == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer within 10s; output:\n%s", addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// redisFixture is one RedisStore under test and the client that inspects what it wrote.
type redisFixture struct {
	store  *redisstore.RedisStore
	client redis.UniversalClient
	prefix string
}

func newRedisFixture(t *testing.T, client redis.UniversalClient, clk *storetest.Clock, secure bool) redisFixture {
	prefix := "test-" + rand.Text()[:8] + ":"
	s := redisstore.NewRedisStore(client, storetest.NewCodec(t, storetest.NewSecret(t)), redisstore.RedisOptions{
		Secure: secure, KeyPrefix: prefix, Now: clk.Now,
	})
	return redisFixture{store: s, client: client, prefix: prefix}
}

// sessionKey is the Redis key of the session whose id the browser holds.
func (f redisFixture) sessionKey(b *storetest.Browser) string {
	for _, id := range b.Jar {
		return f.prefix + "session:" + id
	}
	return ""
}

func (f redisFixture) exists(t *testing.T, key string) bool {
	t.Helper()
	n, err := f.client.Exists(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestRedisStore(t *testing.T) {
	t.Parallel()
	for _, backend := range redisBackends(t) {
		t.Run(backend.name, func(t *testing.T) {
			client := backend.client(t)
			storetest.Run(t, func(t *testing.T, clk *storetest.Clock, secure bool) session.Store {
				return newRedisFixture(t, client, clk, secure).store
			})
			testRedisStore(t, client)
		})
	}
}

// testRedisStore checks what only a server-side store does.
func testRedisStore(t *testing.T, client redis.UniversalClient) {
	ctx := context.Background()
	hour := session.SaveOptions{Expiry: testNow.Add(time.Hour)}

	t.Run("cookie holds only the id, Redis the sealed session with TTL", func(t *testing.T) {
		f := newRedisFixture(t, client, &storetest.Clock{T: testNow}, true)
		b := storetest.NewBrowser()
		cookies := storetest.Save(t, f.store, b, []byte("secret-token-value"), session.SaveOptions{Expiry: testNow.Add(90 * time.Minute)})
		if len(cookies) != 1 || len(cookies[0].Value) != 43 {
			t.Fatalf("cookies = %v, want one holding a 43-character id", cookies)
		}
		key := f.sessionKey(b)
		stored, err := client.Get(ctx, key).Result()
		if err != nil {
			t.Fatalf("GET %s: %v", key, err)
		}
		if strings.Contains(stored, "secret-token-value") {
			t.Errorf("Redis holds the session in clear: %q", stored)
		}
		if ttl := client.TTL(ctx, key).Val(); ttl != 90*time.Minute {
			t.Errorf("TTL of %s = %v, want 1h30m", key, ttl)
		}
	})

	t.Run("renew replaces the id and deletes the old session", func(t *testing.T) {
		f := newRedisFixture(t, client, &storetest.Clock{T: testNow}, false)
		b := storetest.NewBrowser()
		storetest.Save(t, f.store, b, []byte("before login"), hour)
		planted := b.Jar[session.DefaultCookieName]
		oldKey := f.sessionKey(b)
		storetest.Save(t, f.store, b, []byte("alice"), session.SaveOptions{Expiry: hour.Expiry, Renew: true})
		if b.Jar[session.DefaultCookieName] == planted {
			t.Fatal("Renew kept the session id")
		}
		if f.exists(t, oldKey) {
			t.Errorf("old session %s still exists after Renew", oldKey)
		}
		attacker := storetest.NewBrowser()
		attacker.Jar[session.DefaultCookieName] = planted
		if got, err := f.store.Load(attacker.Request()); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("Load with the pre-login id = %q, %v; want ErrNoSession", got, err)
		}
	})

	t.Run("update keeps the id", func(t *testing.T) {
		f := newRedisFixture(t, client, &storetest.Clock{T: testNow}, false)
		b := storetest.NewBrowser()
		storetest.Save(t, f.store, b, []byte("v1"), hour)
		id := b.Jar[session.DefaultCookieName]
		storetest.Save(t, f.store, b, []byte("v2"), hour)
		if b.Jar[session.DefaultCookieName] != id {
			t.Error("a save without Renew changed the id")
		}
	})

	t.Run("delete ends the session on the server, for every replica", func(t *testing.T) {
		f := newRedisFixture(t, client, &storetest.Clock{T: testNow}, false)
		b := storetest.NewBrowser()
		storetest.Save(t, f.store, b, []byte("alice"), hour)
		stolen := storetest.NewBrowser()
		stolen.Jar[session.DefaultCookieName] = b.Jar[session.DefaultCookieName]
		key := f.sessionKey(b)
		rec := httptest.NewRecorder()
		if err := f.store.Delete(rec, b.Request()); err != nil {
			t.Fatal(err)
		}
		if f.exists(t, key) {
			t.Errorf("%s still exists after Delete", key)
		}
		if got, err := f.store.Load(stolen.Request()); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("Load with a copy of the cookie after Delete = %q, %v; want ErrNoSession", got, err)
		}

		// A save in flight on another replica must not bring the session back.
		rec = httptest.NewRecorder()
		err := f.store.Save(rec, stolen.Request(), []byte("refreshed"), hour)
		if !errors.Is(err, session.ErrNoSession) {
			t.Fatalf("update of an ended session = %v, want ErrNoSession", err)
		}
		stolen.Apply(t, rec)
		if len(stolen.Jar) != 0 {
			t.Errorf("update of an ended session left cookies %v", stolen.Jar)
		}
		if f.exists(t, key) {
			t.Errorf("the refused update wrote %s", key)
		}
	})

	t.Run("a save writes the session key only", func(t *testing.T) {
		f := newRedisFixture(t, client, &storetest.Clock{T: testNow}, false)
		b := storetest.NewBrowser()
		storetest.Save(t, f.store, b, []byte("alice"), session.SaveOptions{Expiry: hour.Expiry, Renew: true})
		storetest.Save(t, f.store, b, []byte("alice again"), session.SaveOptions{Expiry: hour.Expiry})
		keys, err := client.Keys(ctx, f.prefix+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if want := f.sessionKey(b); len(keys) != 1 || keys[0] != want {
			t.Errorf("keys after two saves = %q, want only %q", keys, want)
		}
	})

	t.Run("sessions written with a user id by the previous release load", func(t *testing.T) {
		clk := &storetest.Clock{T: testNow}
		codec := storetest.NewCodec(t, storetest.NewSecret(t))
		prefix := "test-" + rand.Text()[:8] + ":"
		s := redisstore.NewRedisStore(client, codec, redisstore.RedisOptions{KeyPrefix: prefix, Now: clk.Now})
		id := strings.Repeat("A", 43)
		// The previous layout: uvarint(len(user id)) | user id | data.
		sealed, err := codec.Seal("redis-session:"+id, append([]byte{5}, "alicedata of alice"...), testNow.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		client.Set(ctx, prefix+"session:"+id, sealed, time.Hour)
		b := storetest.NewBrowser()
		b.Jar[session.DefaultCookieName] = id
		if got, err := s.Load(b.Request()); err != nil || string(got) != "data of alice" {
			t.Fatalf("Load of a previous release's session = %q, %v; want %q", got, err, "data of alice")
		}
	})

	t.Run("a value moved to another key does not open", func(t *testing.T) {
		f := newRedisFixture(t, client, &storetest.Clock{T: testNow}, false)
		alice, mallory := storetest.NewBrowser(), storetest.NewBrowser()
		storetest.Save(t, f.store, alice, []byte("alice"), hour)
		storetest.Save(t, f.store, mallory, []byte("mallory"), hour)
		aliceValue := client.Get(ctx, f.sessionKey(alice)).Val()
		client.Set(ctx, f.sessionKey(mallory), aliceValue, time.Hour)
		if got, err := f.store.Load(mallory.Request()); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("Load of alice's value under mallory's id = %q, %v; want ErrNoSession", got, err)
		}
	})

	t.Run("malformed ids never reach Redis keys", func(t *testing.T) {
		f := newRedisFixture(t, client, &storetest.Clock{T: testNow}, false)
		for _, id := range []string{"x", "*", strings.Repeat("A", 42) + "*", strings.Repeat("A", 44), "../" + strings.Repeat("A", 40)} {
			b := storetest.NewBrowser()
			b.Jar[session.DefaultCookieName] = id
			if _, err := f.store.Load(b.Request()); !errors.Is(err, session.ErrNoSession) {
				t.Errorf("id %q: Load = %v; want ErrNoSession", id, err)
			}
		}
	})
}

func TestRedisStoreFailureIsNotNoSession(t *testing.T) {
	t.Parallel()
	m := miniredis.RunT(t)
	client := newTestClient(t, m.Addr())
	clk := &storetest.Clock{T: testNow}
	f := newRedisFixture(t, client, clk, false)
	b := storetest.NewBrowser()
	storetest.Save(t, f.store, b, []byte("alice"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
	m.Close()

	r := b.Request()
	checks := []struct {
		name string
		call func() error
	}{
		{name: "Ping", call: func() error { return f.store.Ping(context.Background()) }},
		{name: "Load", call: func() error { _, err := f.store.Load(r); return err }},
		{name: "Save", call: func() error {
			return f.store.Save(httptest.NewRecorder(), r, []byte("x"), session.SaveOptions{Expiry: testNow.Add(time.Hour)})
		}},
		{name: "Save renew", call: func() error {
			return f.store.Save(httptest.NewRecorder(), r, []byte("x"), session.SaveOptions{Expiry: testNow.Add(time.Hour), Renew: true})
		}},
		{name: "Delete", call: func() error { return f.store.Delete(httptest.NewRecorder(), r) }},
		{name: "LockSession", call: func() error { _, err := f.store.LockSession(r); return err }},
		{name: "Save filed for EndSessions", call: func() error {
			return f.store.Save(httptest.NewRecorder(), r, []byte("x"), session.SaveOptions{Expiry: testNow.Add(time.Hour),
				Renew: true, Index: []string{"sub:alice"}, Created: testNow})
		}},
		{name: "EndSessions", call: func() error {
			_, err := f.store.EndSessions(context.Background(), "sub:alice", time.Time{})
			return err
		}},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || errors.Is(err, session.ErrNoSession) {
				t.Fatalf("%s with Redis down = %v, want a store error that is not ErrNoSession", tc.name, err)
			}
			if !strings.Contains(err.Error(), "session: redis ") {
				t.Errorf("error %q does not name the redis store or lock", err)
			}
		})
	}

	t.Run("Delete still expires the cookie", func(t *testing.T) {
		rec := httptest.NewRecorder()
		_ = f.store.Delete(rec, r)
		cookies := rec.Result().Cookies()
		if len(cookies) != 1 || cookies[0].MaxAge >= 0 {
			t.Fatalf("Delete with Redis down set %v, want the session cookie expired", cookies)
		}
	})
}

func TestRedisStoreTimeout(t *testing.T) {
	t.Parallel()
	// A peer that accepts connections and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c) // returns when the client closes the connection

		}
	}()
	client := newTestClient(t, l.Addr().String())
	s := redisstore.NewRedisStore(client, storetest.NewCodec(t, storetest.NewSecret(t)), redisstore.RedisOptions{Timeout: 50 * time.Millisecond})
	b := storetest.NewBrowser()
	b.Jar[session.DefaultCookieName] = strings.Repeat("A", 43)
	if _, err := s.Load(b.Request()); err == nil || errors.Is(err, session.ErrNoSession) {
		t.Fatalf("Load from a silent Redis = %v, want a timeout error", err)
	}
}

func TestNewRedisClientFromURL(t *testing.T) {
	t.Parallel()
	m := miniredis.RunT(t)
	tests := []struct {
		name    string
		url     string
		wantErr string
	}{
		{name: "redis", url: "redis://" + m.Addr() + "/0"},
		{name: "wrong scheme", url: "http://" + m.Addr(), wantErr: `scheme "http"`},
		{name: "host and port only", url: m.Addr(), wantErr: "does not parse"},
		{name: "host name and port only", url: "localhost:6379", wantErr: `scheme "localhost"`},
		{name: "unix socket", url: "unix:///tmp/redis.sock", wantErr: `scheme "unix"`},
		{name: "bad db", url: "redis://" + m.Addr() + "/x", wantErr: "database"},
		{name: "bad URL hides password", url: "redis://user:hunter2@[::1", wantErr: "does not parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, err := redisstore.NewRedisClientFromURL(tc.url)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error %q repeats the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { client.Close() })
			s := redisstore.NewRedisStore(client, storetest.NewCodec(t, storetest.NewSecret(t)), redisstore.RedisOptions{})
			if err := s.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
		})
	}
}
