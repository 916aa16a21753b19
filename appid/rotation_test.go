package appid

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer that the server's goroutines may write while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSessionSealedWithUnknownKeyWarnsOnce: a replica that meets sessions sealed with a secret it does not
// have (another replica rotated the key in one step) sends the user to the login and tells the operator why,
// once however many such requests come.
func TestSessionSealedWithUnknownKeyWarnsOnce(t *testing.T) {
	t.Parallel()
	rotated := newTestEnv(t, envOption{})
	var logs syncBuffer
	stale := newTestEnv(t, envOption{auth: func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}})

	b := rotated.newBrowser(t)
	if page := b.login(rotated, "/profile", "alice"); page.status != http.StatusOK {
		t.Fatalf("login on the rotated replica: %d %s", page.status, page.body)
	}
	// Cookies are per host, not per port: the browser brings the session sealed by the first replica's key.
	for range 3 {
		if page := b.get(stale.app.URL + "/profile"); page.status != http.StatusFound ||
			!strings.HasPrefix(page.location, stale.idp.Provider().OAuthServerURL()) {
			t.Fatalf("GET /profile on the replica without the key: %d %q, want a redirect to the login", page.status, page.location)
		}
	}
	got := logs.String()
	if n := strings.Count(got, "key rotation done in one step"); n != 1 {
		t.Fatalf("replica without the key logged the rotation warning %d times, want once:\n%s", n, got)
	}
	for _, want := range []string{"level=WARN", "APPIDGATE_SESSION_PREVIOUS_KEYS", "docs/sessions.md"} {
		if !strings.Contains(got, want) {
			t.Errorf("rotation warning lacks %q:\n%s", want, got)
		}
	}
	// A browser with no session at all is no rotation: nothing more is logged.
	fresh := stale.newBrowser(t)
	fresh.get(stale.app.URL + "/profile")
	if after := logs.String(); after != got {
		t.Errorf("a request without a session logged:\n%s", strings.TrimPrefix(after, got))
	}
}
