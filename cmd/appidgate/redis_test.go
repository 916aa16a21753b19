package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/appidgate/appidgate/internal/testkit"
)

// TestDemoWithRedisSessions runs the demo with APPIDGATE_REDIS_URL: the session lives in Redis, the browser
// holds only an id, readiness includes Redis, and logout removes the session from Redis. The Redis commands of
// the callback are spans under its span, which never hold the session id.
func TestDemoWithRedisSessions(t *testing.T) {
	t.Parallel()
	redis := miniredis.RunT(t)
	spans := tracetest.NewInMemoryExporter()
	d := startDemoWith(t, map[string]string{"APPIDGATE_REDIS_URL": "redis://" + redis.Addr()},
		func(e *env) { e.spans = spans })

	b := testkit.NewBrowser(t)
	if got := b.SignIn(b.Get(d.base+"/auth_route"), "alice", "alice"); got.Status != http.StatusOK || got.Body != authRouteText {
		t.Fatalf("alice: %d %q", got.Status, got.Body)
	}
	callback := findSpan(t, ended(t, spans), "GET /afterauth")
	tree := stripDurations(subtree(ended(t, spans), callback, 0))
	if !strings.Contains(tree, "\n  redis ") {
		t.Errorf("no Redis span under the callback's span:\n%s", tree)
	}
	text := spansText(ended(t, spans))
	for _, k := range redis.Keys() {
		if id := k[strings.LastIndexByte(k, ':')+1:]; len(id) >= 16 && strings.Contains(text, id) {
			t.Errorf("a span holds the Redis key %s", k)
		}
	}
	u, _ := url.Parse(d.base)
	for _, c := range b.Client.Jar.Cookies(u) {
		if strings.Contains(text, c.Value) {
			t.Errorf("a span holds the value of cookie %s", c.Name)
		}
	}
	sessions := func() int {
		n := 0
		for _, k := range redis.Keys() {
			if strings.Contains(k, "session:") {
				n++
			}
		}
		return n
	}
	if sessions() != 1 {
		t.Fatalf("Redis holds %d sessions after one login (keys %v), want 1", sessions(), redis.Keys())
	}
	if p := b.Get(d.base + "/readyz"); p.Status != http.StatusOK || !strings.Contains(p.Body, `"redis":"ok"`) {
		t.Fatalf("/readyz: %d %s, want 200 with the redis check", p.Status, p.Body)
	}

	// Log out through the page's form, as a browser would: same-origin POST.
	req, _ := http.NewRequest(http.MethodPost, d.base+"/logout", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", d.base)
	if p := b.Do(req); p.URL.Path != "/noauth_route" {
		t.Fatalf("logout ended at %s (%d), want /noauth_route", p.URL, p.Status)
	}
	if sessions() != 0 {
		t.Fatalf("Redis still holds %d sessions after logout", sessions())
	}

	redis.Close()
	if p := b.Get(d.base + "/readyz"); p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "redis") {
		t.Fatalf("/readyz with Redis down: %d %s, want 503 naming redis", p.Status, p.Body)
	}
}
