package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// testEnv returns an env whose variables are exactly vars (with APPIDGATE_SHUTDOWN_DELAY=0 unless vars sets
// it), writing to the given buffers.
func testEnv(vars map[string]string, stdout, stderr io.Writer) env {
	if _, ok := vars["APPIDGATE_SHUTDOWN_DELAY"]; !ok {
		// No load balancer routes to a test's server: stop at once unless the test sets a delay.
		vars = maps.Clone(vars)
		if vars == nil {
			vars = map[string]string{}
		}
		vars["APPIDGATE_SHUTDOWN_DELAY"] = "0"
	}
	return env{
		stdout: stdout, stderr: stderr,
		getenv:    func(k string) string { return vars[k] },
		lookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		environ: func() []string {
			var kv []string
			for k, v := range vars {
				kv = append(kv, k+"="+v)
			}
			slices.Sort(kv)
			return kv
		},
		signingKey: testkit.RSAKey(),
	}
}

// demoProcess is `appidgate demo` running in-process on the embedded provider.
type demoProcess struct {
	base   string
	stdout *testkit.Buffer
	stderr *testkit.Buffer
	stop   func() int // cancels the command and returns its exit code
}

var openLine = regexp.MustCompile(`open (http://[\w.:\[\]-]+)`)

func startDemo(t *testing.T, vars map[string]string) *demoProcess {
	t.Helper()
	return startDemoWith(t, vars, nil)
}

// startDemoWith is startDemo with the command's env changed by change, when not nil.
func startDemoWith(t *testing.T, vars map[string]string, change func(*env)) *demoProcess {
	t.Helper()
	if vars == nil {
		vars = map[string]string{}
	}
	vars["PORT"] = "0"
	if vars["APPIDGATE_LOG_LEVEL"] == "" {
		vars["APPIDGATE_LOG_LEVEL"] = "debug"
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &demoProcess{stdout: &testkit.Buffer{}, stderr: &testkit.Buffer{}}
	done := make(chan int, 1)
	e := testEnv(vars, d.stdout, d.stderr)
	if change != nil {
		change(&e)
	}
	go func() { done <- runDemo(ctx, nil, e) }()
	var once sync.Once
	code := -1
	d.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Error("demo did not stop within 30 s of cancellation")
			}
		})
		return code
	}
	t.Cleanup(func() { d.stop() })

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := openLine.FindStringSubmatch(d.stdout.String()); m != nil {
			d.base = m[1]
			return d
		}
		select {
		case code := <-done:
			t.Fatalf("demo exited with %d before serving; stderr:\n%s", code, d.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("demo printed no address within 10 s; stdout:\n%s\nstderr:\n%s", d.stdout.String(), d.stderr.String())
	return nil
}

func TestDemoReferenceRoutesOnLocalProvider(t *testing.T) {
	t.Parallel()
	d := startDemo(t, nil)

	tests := []struct {
		user       string
		wantStatus int
		wantText   string
	}{
		{"alice", http.StatusOK, authRouteText},
		{"carol", http.StatusOK, authRouteText},
		{"bob", http.StatusForbidden, "Unauthorized!"},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			b := testkit.NewBrowser(t)
			login := b.Get(d.base + "/")
			if login.URL.Host == strings.TrimPrefix(d.base, "http://") || login.Status != http.StatusOK {
				t.Fatalf("GET / ended at %s with %d, want the provider's login form on its own origin", login.URL, login.Status)
			}
			got := b.SignIn(login, tc.user, tc.user)
			if got.Status != tc.wantStatus || !strings.Contains(got.Body, tc.wantText) {
				t.Fatalf("after signing in as %s: %d at %s, want %d with %q; body:\n%s", tc.user, got.Status, got.URL,
					tc.wantStatus, tc.wantText, got.Body)
			}
			if got.URL.Path != "/auth_route" {
				t.Fatalf("landed on %s, want /auth_route", got.URL)
			}
			if p := b.Get(d.base + "/profile"); p.Status != http.StatusOK || !strings.Contains(p.Body, tc.user+"@example.com") {
				t.Fatalf("/profile: %d, body:\n%s", p.Status, p.Body)
			}
		})
	}

	t.Run("open route", func(t *testing.T) {
		if p := testkit.NewBrowser(t).Get(d.base + "/noauth_route"); p.Status != http.StatusOK || !strings.Contains(p.Body, noauthRouteText) {
			t.Fatalf("/noauth_route: %d %s", p.Status, p.Body)
		}
	})
	t.Run("health, readiness and metrics", func(t *testing.T) {
		b := testkit.NewBrowser(t)
		if p := b.Get(d.base + "/healthz"); p.Status != http.StatusOK {
			t.Fatalf("/healthz: %d", p.Status)
		}
		if p := b.Get(d.base + "/readyz"); p.Status != http.StatusOK {
			t.Fatalf("/readyz after logins: %d %s", p.Status, p.Body)
		}
		m := b.Get(d.base + "/metrics").Body
		for _, want := range []string{
			`appidgate_logins_total{result="success"} 3`,
			`appidgate_authorization_decisions_total{policy="any_role",result="deny"} 1`,
		} {
			if !strings.Contains(m, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})

	if code := d.stop(); code != 0 {
		t.Fatalf("exit code after cancellation = %d, want 0", code)
	}
	logs := d.stderr.String()
	if !strings.Contains(logs, `"path":"/auth_route"`) {
		t.Fatalf("no request log line for /auth_route in:\n%s", logs)
	}
	// The refused user is named in the request log line of the 403, so refusals can be traced.
	if !regexp.MustCompile(`"path":"/auth_route","status":403.*"user":"` + localappid.BobID + `"`).MatchString(logs) {
		t.Fatalf("no 403 request log line naming bob's id in:\n%s", logs)
	}
	// A JWT (header "eyJ...") anywhere in the logs would be a leaked id or access token.
	if jwt := regexp.MustCompile(`eyJ[\w-]+\.eyJ[\w-]+`).FindString(logs); jwt != "" {
		t.Fatalf("logs contain a token: %s", jwt)
	}
	if strings.Contains(logs, "code=") || strings.Contains(logs, "state=") {
		t.Fatalf("logs contain a query string with a code or state:\n%s", logs)
	}
}

func TestDemoConfigurationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vars map[string]string
		want []string
		// asGiven: the demo checks the environment as it is (no local provider), so it prints every problem
		// appid.ConfigFromLookup lists for it.
		asGiven bool
	}{
		{
			name:    "production switch without App ID names all six variables",
			vars:    map[string]string{"APPIDGATE_REQUIRE_APPID": "1"},
			want:    referenceVariables,
			asGiven: true,
		},
		{
			name:    "partial App ID configuration names the missing ones",
			vars:    map[string]string{"APPID_OAUTH_SERVER_URL": "https://us-south.appid.cloud.ibm.com/oauth/v4/t", "APPID_CLIENT_ID": "c"},
			want:    []string{"APPID_CLIENT_SECRET", "APPID_REDIRECT_URI", "SESSION_SECRET_KEY", "IBM_CLOUD_APIKEY"},
			asGiven: true,
		},
		{
			name: "bad process settings are named too",
			vars: map[string]string{"PORT": "http", "APPIDGATE_LOG_LEVEL": "loud", "APPIDGATE_SHUTDOWN_TIMEOUT": "soon", "APPIDGATE_REQUIRE_APPID": "yes please"},
			want: []string{"PORT", "loud", "APPIDGATE_SHUTDOWN_TIMEOUT", "APPIDGATE_REQUIRE_APPID"},
		},
		{
			name: "a negative shutdown delay",
			vars: map[string]string{"APPIDGATE_SHUTDOWN_DELAY": "-1s"},
			want: []string{"APPIDGATE_SHUTDOWN_DELAY: expected a duration of 0 or more such as 3s"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runDemo(context.Background(), nil, testEnv(tc.vars, &stdout, &stderr))
			if code != 2 {
				t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("error message does not name %s:\n%s", w, stderr.String())
				}
			}
			if strings.Count(stderr.String(), "cannot start") != 1 {
				t.Errorf("want one message, got:\n%s", stderr.String())
			}
			if !tc.asGiven {
				return
			}
			// Every problem the library lists is printed as it is, on a line of its own.
			_, err := appid.ConfigFromLookup(testEnv(tc.vars, nil, nil).lookupEnv)
			var ce *appid.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("appid.ConfigFromLookup: want a *appid.ConfigError, got %v", err)
			}
			for _, p := range ce.Problems {
				if !strings.Contains(stderr.String(), "\n  "+p.Setting+": "+p.Reason+"\n") {
					t.Errorf("problem %q is not a line of the message:\n%s", p, stderr.String())
				}
			}
		})
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		// Re-executed as the appidgate binary by a test that needs a real process and real signals.
		main()
		return
	}
	os.Exit(m.Run())
}
