package testkit_test

import (
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := testkit.NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want the start %v", got, start)
	}
	c.Advance(90 * time.Second)
	if got, want := c.Now(), start.Add(90*time.Second); !got.Equal(want) {
		t.Fatalf("after Advance(90s): %v, want %v", got, want)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("after Set: %v, want %v", got, start)
	}
}

func TestBufferConcurrentWrites(t *testing.T) {
	var b testkit.Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Fatalf("%d lines after 800 concurrent writes", n)
	}
	b.Reset()
	if _, err := b.WriteString("x"); err != nil || b.String() != "x" {
		t.Fatalf("after Reset and WriteString: %q, %v", b.String(), err)
	}
}

func TestBufferWait(t *testing.T) {
	var b testkit.Buffer
	go func() {
		for _, part := range []string{"appidgate demo: ", "open http://127.0.0.1:5000", "\n"} {
			b.WriteString(part)
		}
	}()
	start := time.Now()
	if !b.Wait(10*time.Second, func(s string) bool { return strings.HasSuffix(s, "\n") }) {
		t.Fatalf("Wait gave up on a line that was written; buffer %q", b.String())
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Wait returned %v after the line was written", took)
	}
	if b.Wait(20*time.Millisecond, func(s string) bool { return strings.Contains(s, "never") }) {
		t.Fatal("Wait reported text that was never written")
	}
}

func TestRSAKeysAreSharedAndDistinct(t *testing.T) {
	if testkit.RSAKey() != testkit.RSAKey() {
		t.Fatal("RSAKey returned two different keys")
	}
	if testkit.RSAKey().N.BitLen() != 2048 {
		t.Fatalf("RSAKey is %d bits, want 2048", testkit.RSAKey().N.BitLen())
	}
	keys := []*big.Int{testkit.RSAKey().N, testkit.OtherRSAKey(1).N, testkit.OtherRSAKey(2).N}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[i].Cmp(keys[j]) == 0 {
				t.Fatalf("keys %d and %d are the same", i, j)
			}
		}
	}
}

// TestBrowserSignsInOnLocalProvider: the browser follows the redirect to localappid, signs in and comes back with
// the provider's cookies kept; the step browser stops at the first redirect.
func TestBrowserSignsInOnLocalProvider(t *testing.T) {
	cfg := localappid.DefaultConfig()
	cfg.SigningKey = testkit.RSAKey()
	srv, err := localappid.Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	client := cfg.Clients[0]
	auth := srv.Provider().OAuthServerURL() + "/authorization?response_type=code&scope=openid&state=s1&client_id=" +
		client.ID + "&redirect_uri=" + client.RedirectURIs[0]

	b := testkit.NewStepBrowser(t)
	page := b.Get(auth)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "<form") {
		t.Fatalf("GET /authorization: %d, want the login form:\n%s", page.Status, page.Body)
	}
	got := b.SignIn(page, "alice", "alice")
	loc := got.Header.Get("Location")
	if got.Status != http.StatusFound || !strings.HasPrefix(loc, client.RedirectURIs[0]+"?") || !strings.Contains(loc, "code=") {
		t.Fatalf("after signing in: %d to %q, want a 302 to the redirect URI with a code", got.Status, loc)
	}
	// The provider's single sign-on cookie is in the jar: a second authorization request skips the form.
	if again := b.Get(auth); again.Status != http.StatusFound {
		t.Fatalf("second GET /authorization: %d, want 302 without the form", again.Status)
	}
}
