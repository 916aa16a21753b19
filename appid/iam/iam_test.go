package iam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeIAM answers API-key exchanges like IBM Cloud IAM and counts them.
type fakeIAM struct {
	apiKey    string
	expiresIn string // raw JSON value of expires_in
	calls     atomic.Int32
	release   chan struct{} // when set, each answer waits for it
}

func (f *fakeIAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.calls.Add(1)
	if f.release != nil {
		<-f.release
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != GrantTypeAPIKey {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errorCode":"BXNIM0103E","errorMessage":"Property missing or empty"}`)
		return
	}
	if r.PostForm.Get("apikey") != f.apiKey {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errorCode":"BXNIM0415E","errorMessage":"Provided API key could not be found"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":"iam-token-%d","token_type":"Bearer","expires_in":%s,"expiration":%d}`,
		n, f.expiresIn, time.Now().Add(time.Hour).Unix())
}

// clock is a settable time source for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newSource(t *testing.T, f *fakeIAM, key string) (*TokenSource, *clock) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	ts := NewTokenSource(key, srv.URL, srv.Client())
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	ts.now = c.Now
	return ts, c
}

func TestTokenCachedAndRenewedAtEightyPercent(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn string
	}{
		{"expires_in as number", "3600"},
		{"expires_in as string", `"3600"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeIAM{apiKey: "k", expiresIn: tc.expiresIn}
			ts, clk := newSource(t, f, "k")
			ctx := context.Background()

			first, err := ts.Token(ctx)
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			clk.Advance(47 * time.Minute) // 78% of an hour: still fresh
			if again, _ := ts.Token(ctx); again != first || f.calls.Load() != 1 {
				t.Fatalf("before 80%% of the lifetime got %q after %d calls, want cached %q after 1", again, f.calls.Load(), first)
			}
			clk.Advance(2 * time.Minute) // 82%: due for renewal
			renewed, err := ts.Token(ctx)
			if err != nil {
				t.Fatalf("Token after 80%%: %v", err)
			}
			if renewed == first || f.calls.Load() != 2 {
				t.Fatalf("after 80%% of the lifetime got %q after %d calls, want a new token after 2", renewed, f.calls.Load())
			}
		})
	}
}

func TestTokenOneFetchAtATime(t *testing.T) {
	f := &fakeIAM{apiKey: "k", expiresIn: "3600", release: make(chan struct{})}
	ts, _ := newSource(t, f, "k")

	const callers = 20
	var wg sync.WaitGroup
	tokens := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens[i], errs[i] = ts.Token(context.Background())
		}()
	}
	// Let the one request in flight answer once every caller is waiting on it.
	for f.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(f.release)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || tokens[i] != tokens[0] {
			t.Fatalf("caller %d got %q, %v; want %q", i, tokens[i], errs[i], tokens[0])
		}
	}
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("IAM received %d requests for %d concurrent callers, want 1", got, callers)
	}
}

func TestInvalidateForcesNewToken(t *testing.T) {
	f := &fakeIAM{apiKey: "k", expiresIn: "3600"}
	ts, _ := newSource(t, f, "k")
	ctx := context.Background()
	first, _ := ts.Token(ctx)
	ts.Invalidate("some-other-token")
	if again, _ := ts.Token(ctx); again != first {
		t.Fatalf("invalidating another token dropped the cached one")
	}
	ts.Invalidate(first)
	second, err := ts.Token(ctx)
	if err != nil || second == first {
		t.Fatalf("after Invalidate got %q, %v; want a new token", second, err)
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		expiresIn string
		wantCode  string
		wantText  string
	}{
		{"unknown API key", "wrong", "3600", "BXNIM0415E", "Provided API key could not be found"},
		{"no API key", "", "3600", "", "no API key configured"},
		{"lifetime not a number", "k", `"soon"`, "", "decoding token response"},
		{"lifetime not positive", "k", "0", "", "expires_in"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeIAM{apiKey: "k", expiresIn: tc.expiresIn}
			ts, _ := newSource(t, f, tc.key)
			_, err := ts.Token(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("got error %v, want one containing %q", err, tc.wantText)
			}
			var iamErr *Error
			if tc.wantCode != "" && (!errors.As(err, &iamErr) || iamErr.Code != tc.wantCode || iamErr.StatusCode != 400) {
				t.Fatalf("got %#v, want *Error with code %s and status 400", err, tc.wantCode)
			}
			if tc.key != "" && strings.Contains(err.Error(), "apikey="+tc.key) {
				t.Fatalf("error %q reveals the API key", err)
			}
		})
	}
}

func TestStaleTokenServedWhileIAMIsDown(t *testing.T) {
	f := &fakeIAM{apiKey: "k", expiresIn: "3600"}
	srv := httptest.NewServer(f)
	ts := NewTokenSource("k", srv.URL, srv.Client())
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	ts.now = clk.Now
	first, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()

	clk.Advance(50 * time.Minute) // due for renewal, not expired
	if got, err := ts.Token(context.Background()); err != nil || got != first {
		t.Fatalf("with IAM down before expiry got %q, %v; want the cached token", got, err)
	}
	clk.Advance(11 * time.Minute) // expired
	if _, err := ts.Token(context.Background()); err == nil {
		t.Fatal("with IAM down after expiry got a token, want an error")
	}
}

func TestTokenHonoursCallerContext(t *testing.T) {
	f := &fakeIAM{apiKey: "k", expiresIn: "3600", release: make(chan struct{})}
	ts, _ := newSource(t, f, "k")
	defer close(f.release)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := ts.Token(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the caller's deadline", err)
	}
}
