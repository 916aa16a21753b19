package session_test

import (
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/appidgate/appidgate/appid/session"
)

// A Codec seals values for one purpose; they open only for that purpose and until their expiry.
func ExampleCodec() {
	// In production the secrets come from configuration; the first one seals, all of them open.
	codec, err := session.NewCodec([]byte(rand.Text()))
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	sealed, err := codec.Seal("login-state", []byte("state=abc"), now.Add(10*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	value, err := codec.Open("login-state", sealed, now)
	fmt.Printf("%s %v\n", value, err)
	_, err = codec.Open("session", sealed, now)
	fmt.Println(err)
	// Output:
	// state=abc <nil>
	// session: no valid session (sealed value failed authentication for purpose "session")
}

// A CookieStore keeps the sealed session in the browser; Load reads it back on the next request.
func ExampleCookieStore() {
	codec, err := session.NewCodec([]byte(rand.Text()))
	if err != nil {
		log.Fatal(err)
	}
	store := session.NewCookieStore(codec, session.CookieOptions{Secure: true})

	rec := httptest.NewRecorder()
	login := httptest.NewRequest(http.MethodGet, "https://app.example/callback", nil)
	if err := store.Save(rec, login, []byte(`{"sub":"alice"}`), session.SaveOptions{Expiry: time.Now().Add(time.Hour), Renew: true}); err != nil {
		log.Fatal(err)
	}
	next := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	for _, c := range rec.Result().Cookies() {
		fmt.Println(c.Name, c.HttpOnly, c.Secure, c.SameSite == http.SameSiteLaxMode)
		next.AddCookie(c)
	}
	data, err := store.Load(next)
	fmt.Printf("%s %v\n", data, err)
	// Output:
	// __Host-appidgate_session true true true
	// {"sub":"alice"} <nil>
}

// A store that implements SessionLocker lets one replica at a time do a session's once-only work, such as
// redeeming its refresh token; the others wait, then read what it saved. Cookie stores have no lock.
func ExampleSessionLocker() {
	var store session.Store // a *redisstore.RedisStore in production
	refreshOnce := func(w http.ResponseWriter, r *http.Request) {
		if locker, ok := store.(session.SessionLocker); ok {
			release, err := locker.LockSession(r)
			if err == nil {
				defer release()
				// Load again: another replica may have refreshed while this one waited.
			}
			// On error (Redis down, the request gone) go on without the lock, or answer 503.
		}
		// ... redeem the refresh token and Save the renewed session, still holding the lock ...
	}
	_ = refreshOnce
}
