package e2e

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
)

const (
	// bannerTimeout bounds how long the demo may take to print where it listens.
	bannerTimeout = 15 * time.Second
	// stopTimeout bounds how long the demo may take to exit after SIGTERM before it is killed. The demo's own
	// drain bound is set below it (APPIDGATE_SHUTDOWN_TIMEOUT), so a kill here means the drain bound was ignored.
	stopTimeout = 10 * time.Second
)

// demo is one running `appidgate demo` process.
type demo struct {
	// App is the app's origin as the banner prints it, e.g. http://localhost:5000.
	App string
	// Provider is the local provider's oAuthServerUrl, e.g. http://127.0.0.1:41234/oauth/v4/local-tenant.
	Provider string
	// ProviderOrigin is the scheme and host of Provider, the other site the browser crosses to.
	ProviderOrigin string
}

// startDemo runs the built binary as `appidgate demo` on a free port with the embedded local provider, waits for
// its banner, and stops it with SIGTERM when the test ends, failing the test unless it exits 0 in time.
func startDemo(t *testing.T) *demo {
	t.Helper()
	d, _ := startAppidgate(t, "demo")
	return d
}

// startAppidgate runs the built binary as `appidgate <args...>` as startDemo describes and returns what its
// banner says and its output (stderr: the JSON log; stdout lines prefixed "stdout: ").
func startAppidgate(t *testing.T, args ...string) (*demo, *testkit.Buffer) {
	t.Helper()
	return startAppidgateEnv(t, nil, args...)
}

// startAppidgateEnv is startAppidgate with the environment variables extra (NAME=value) added.
func startAppidgateEnv(t *testing.T, extra []string, args ...string) (*demo, *testkit.Buffer) {
	t.Helper()
	requireChromium(t)
	if appidgateBinary == "" {
		t.Fatal("e2e: the appidgate binary was not built (TestMain)")
	}
	port := testkit.FreePort(t)
	command := args[0]
	cmd := exec.Command(appidgateBinary, args...)
	cmd.Env = append(testkit.CleanEnv(os.Environ()),
		fmt.Sprintf("PORT=%d", port),
		"APPIDGATE_SHUTDOWN_TIMEOUT=5s",
		"APPIDGATE_SHUTDOWN_DELAY=0", // no load balancer to wait for: stop at once
		"APPIDGATE_LOG_FORMAT=json",
	)
	cmd.Env = append(cmd.Env, extra...)
	logs := &testkit.Buffer{}
	cmd.Stderr = logs
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = stdoutW
	if err := cmd.Start(); err != nil {
		stdoutR.Close()
		stdoutW.Close()
		t.Fatalf("e2e: starting %s %s: %v", appidgateBinary, command, err)
	}
	stdoutW.Close() // the child holds its own copy
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	lines := make(chan string, 16)
	go func() {
		defer stdoutR.Close()
		sc := bufio.NewScanner(stdoutR)
		for sc.Scan() {
			logs.WriteString("stdout: " + sc.Text() + "\n")
			select {
			case lines <- sc.Text():
			default: // nobody reads once the banner is in; keep draining so the child never blocks on stdout
			}
		}
	}()

	var exitErr error
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			exitErr = testkit.Terminate(cmd, exited, stopTimeout)
		}
		if exitErr != nil {
			t.Errorf("e2e: appidgate %s: %v", command, exitErr)
		}
		if t.Failed() {
			t.Logf("appidgate %s output:\n%s", command, logs.String())
		}
	})

	d := &demo{}
	deadline := time.After(bannerTimeout)
	for d.App == "" || d.Provider == "" {
		select {
		case line := <-lines:
			if rest, ok := strings.CutPrefix(line, "appidgate "+command+": open "); ok {
				// The proxy's banner names the URL with its path "/", the demo's the bare origin.
				u, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
				d.App = strings.TrimSuffix(u, "/")
			}
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "local App ID provider: "); ok {
				d.Provider, _, _ = strings.Cut(rest, " ")
			}
		case err := <-exited:
			stopped = true
			t.Fatalf("e2e: appidgate %s exited before printing its banner: %v\n%s", command, err, logs.String())
		case <-deadline:
			t.Fatalf("e2e: appidgate %s printed no banner with the app and provider URLs within %v\n%s", command,
				bannerTimeout, logs.String())
		}
	}
	if want := fmt.Sprintf("http://localhost:%d", port); d.App != want {
		t.Fatalf("e2e: banner says open %q, want %q (PORT=%d)", d.App, want, port)
	}
	u, err := url.Parse(d.Provider)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		t.Fatalf("e2e: banner's local provider URL %q is not http://127.0.0.1:PORT/...: the browser would not cross sites", d.Provider)
	}
	d.ProviderOrigin = u.Scheme + "://" + u.Host
	return d, logs
}
