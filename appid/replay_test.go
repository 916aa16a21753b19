package appid

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestReplayGuardForgetsTheOldestWhenFull: a full guard must not lock logins out (anyone can finish many logins);
// it forgets its oldest state, and still refuses the replay of a state it remembers.
func TestReplayGuardForgetsTheOldestWhenFull(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{auth: func(c *Config) {
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: &replayingTransport{}}
	}})
	e.auth.login.usedStates = newUsedStates(2)
	// Two logins fill the guard; the third forgets the first.
	type login struct {
		b        *browser
		callback *response
		cookies  []*http.Cookie
	}
	var logins []login
	for _, user := range []string{"alice", "carol", "alice"} {
		b := e.newBrowser(t)
		start := b.get(e.app.URL + "/auth_route")
		l := login{b: b, cookies: b.client.Jar.Cookies(start.url)}
		l.callback = b.authorize(start, user)
		if got := b.follow(l.callback); got.status != http.StatusFound {
			t.Fatalf("%s with the guard full: callback %d, want 302: %s", user, got.status, got.body)
		}
		logins = append(logins, l)
	}
	// The replayed callback of the newest login is refused by the app itself (the provider here answers a
	// replayed code): the guard still remembers it.
	thief := e.newBrowser(t)
	last := logins[2]
	thief.client.Jar.SetCookies(last.callback.url, last.cookies)
	if again := thief.follow(last.callback); again.status != http.StatusBadRequest ||
		!strings.Contains(again.body, "already used") {
		t.Errorf("replayed callback of a remembered login: got %d %q, want 400 already used", again.status, again.body)
	}
	assertNoSession(t, e, thief)
}

func TestUsedStates(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	u := newUsedStates(3)
	for _, s := range []string{"a", "b", "c"} {
		if !u.markUsed(s, now) {
			t.Fatalf("first use of %s refused", s)
		}
	}
	if u.markUsed("b", now) {
		t.Fatal("replay of b accepted while remembered")
	}
	if !u.markUsed("d", now) { // full: forgets a, the oldest
		t.Fatal("a new state refused when the guard is full")
	}
	if u.markUsed("c", now) || u.markUsed("d", now) {
		t.Fatal("replay of a remembered state accepted after an eviction")
	}
	if !u.markUsed("a", now) {
		t.Fatal("the oldest state was not the one forgotten")
	}
	later := now.Add(pendingLoginTTL)
	if !u.markUsed("b", later) {
		t.Fatal("a state is remembered past its login's lifetime")
	}
	for i := range 1000 { // however many logins pass, the guard remembers its last 3 states and no more
		u.markUsed(fmt.Sprint(i), later)
	}
	for _, s := range []string{"997", "998", "999"} {
		if u.markUsed(s, later) {
			t.Fatalf("replay of %s, one of the last 3 states, accepted", s)
		}
	}
	if !u.markUsed("996", later) {
		t.Fatal("the guard still remembers a 4th state: it is not bounded at 3")
	}
}
