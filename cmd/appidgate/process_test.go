package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
)

// childEnv makes the test binary behave as the appidgate binary (see TestMain).
const childEnv = "APPIDGATE_TEST_CHILD"

// TestSIGTERMDrainsInFlightRequest runs the real process, holds a login request in flight by making the
// provider's discovery answer slowly, sends SIGTERM, and checks that the request still completes, that new
// connections are refused meanwhile, and that the process exits 0, as Knative's scale-down expects.
func TestSIGTERMDrainsInFlightRequest(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a process")
	}
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	var provider *httptest.Server
	provider = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/v4/t/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
		issuer := provider.URL + "/oauth/v4/t"
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": issuer, "authorization_endpoint": issuer + "/authorization", "token_endpoint": issuer + "/token",
			"jwks_uri": issuer + "/publickeys", "userinfo_endpoint": issuer + "/userinfo",
			"response_types_supported": []string{"code"}, "id_token_signing_alg_values_supported": []string{"RS256"},
			"subject_types_supported": []string{"public"},
		})
	}))
	defer provider.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	port := testkit.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(os.Args[0], "demo")
	cmd.Env = append(os.Environ(), childEnv+"=1",
		"APPIDGATE_LISTEN_ADDR=127.0.0.1:"+fmt.Sprint(port),
		"APPID_CLIENT_ID=client", "APPID_CLIENT_SECRET=secret",
		"APPID_OAUTH_SERVER_URL="+provider.URL+"/oauth/v4/t", "APPID_REDIRECT_URI="+base+"/afterauth",
		"SESSION_SECRET_KEY=0123456789abcdef0123456789abcdef", "IBM_CLOUD_APIKEY=key",
		"IAM_TOKEN_URL="+provider.URL+"/identity/token", "APPIDGATE_SHUTDOWN_TIMEOUT=10s",
		"APPIDGATE_SHUTDOWN_DELAY=1s")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	logs := make(chan string, 1)
	go func() {
		var b strings.Builder
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			b.WriteString(s.Text() + "\n")
		}
		logs <- b.String()
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })

	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	waitHealthy(t, client, base+"/healthz")

	answer := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/auth_route", nil)
		req.Header.Set("Accept", "text/html")
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("in-flight request failed: %v", err)
			answer <- nil
			return
		}
		resp.Body.Close()
		answer <- resp
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the login request never reached the provider")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// At once, /readyz fails so that the platform stops routing here, while the server still answers for the
	// shutdown delay, closing each connection after its answer.
	signalled := time.Now()
	for {
		fresh := &http.Client{Timeout: time.Second}
		resp, err := fresh.Get(base + "/readyz")
		if err != nil {
			t.Fatalf("/readyz %s after SIGTERM, within the shutdown delay: %v", time.Since(signalled), err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		// The provider is held back, so /readyz may fail for it too: wait for the shutdown check to fail.
		if resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(body), `"shutdown":"fail"`) {
			if !resp.Close {
				t.Errorf("/readyz after SIGTERM answered without Connection: close")
			}
			break
		}
		if time.Since(signalled) > time.Second {
			t.Fatalf("/readyz still answered %d a second after SIGTERM, want 503", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// After the delay the listener is closed: a new connection is refused, the old request still waits.
	deadline := time.Now().Add(7 * time.Second)
	for {
		fresh := &http.Client{Timeout: time.Second}
		resp, err := fresh.Get(base + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("new requests were still served 7 s after SIGTERM (shutdown delay 1 s)")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-exited:
		t.Fatalf("process exited (%v) while a request was in flight", err)
	default:
	}

	close(release)
	select {
	case resp := <-answer:
		if resp == nil || resp.StatusCode != http.StatusFound ||
			!strings.HasPrefix(resp.Header.Get("Location"), provider.URL+"/oauth/v4/t/authorization?") {
			t.Fatalf("in-flight request answered %v, want 302 to the provider", resp)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("in-flight request did not complete after SIGTERM")
	}
	select {
	case <-logs:
		if err := <-exited; err != nil {
			t.Fatalf("process exit after SIGTERM: %v, want exit status 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("process did not exit within 15 s of its last request")
	}
}

func waitHealthy(t *testing.T, client *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never answered 200", url)
}
