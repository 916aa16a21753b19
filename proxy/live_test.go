package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appidgate/appidgate/proxy"
)

// writeFile replaces path's content at once, as a config map update does: a new file renamed over the old.
func writeFile(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// policyOf names what the routes in force ask of GET path: "public" or the policy.
func policyOf(l *proxy.LiveRoutes, path string) string {
	r := l.Routes().Match("GET", path)
	if r.Public {
		return "public"
	}
	return r.Policy.String()
}

// TestLiveRoutesBrokenFileKeepsRoutes: a reload of a file with problems names each with its file, line and
// column, and the routes in force, and their version, stay as they were.
func TestLiveRoutesBrokenFileKeepsRoutes(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "routes.yaml")
	writeFile(t, file, "routes:\n  - path: /admin\n    policy: role:admin\n")
	l, err := proxy.LoadLiveRoutes(file, proxy.RouteFlags{Public: []string{"/noauth_route"}})
	if err != nil {
		t.Fatal(err)
	}
	before := l.Version()
	if before.SHA256 == "" || before.LoadedAt.IsZero() {
		t.Fatalf("version %+v, want the file's hash and a time", before)
	}
	writeFile(t, file, "routes:\n  - path: /admin\n    policy: role:root, role:admin\n  - path: admin\n    public: true\n")
	_, err = l.Reload()
	if err == nil {
		t.Fatal("a broken file was put in force")
	}
	for _, want := range []string{file + ":3:22: policy: unexpected \", role:admin\" after the policy", file + ":4:11: path \"admin\" must start"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
	if got := policyOf(l, "/admin"); got != "role:admin" {
		t.Errorf("/admin after a failed reload: %s, want the old routes' role:admin", got)
	}
	if got := policyOf(l, "/noauth_route"); got != "public" {
		t.Errorf("/noauth_route (a flag's) after a failed reload: %s, want public", got)
	}
	if got := l.Version(); got != before {
		t.Errorf("version after a failed reload: %+v, want %+v", got, before)
	}
	os.Remove(file)
	if _, err := l.Reload(); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("reload of a missing file: %v, want an error naming it", err)
	}
	if got := policyOf(l, "/admin"); got != "role:admin" {
		t.Errorf("/admin after the file went away: %s, want the old routes' role:admin", got)
	}
}

// TestLiveRoutesReloadIfChanged follows a file mounted as Kubernetes and Code Engine mount a config map: a
// symlink into a ..data symlink that is swapped for a new directory. A change is loaded once, at the second look
// that finds it (the first only notes it); a broken file is reported once, not at every look.
func TestLiveRoutesReloadIfChanged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	version := 0
	publish := func(content string) { // what the kubelet does: a new directory, then ..data swapped to it
		version++
		data := filepath.Join(dir, fmt.Sprintf("..v%d", version))
		if err := os.Mkdir(data, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "routes.yaml"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(filepath.Base(data), tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	publish("routes:\n  - path: /reports\n    policy: role:admin\n")
	file := filepath.Join(dir, "routes.yaml")
	if err := os.Symlink("..data/routes.yaml", file); err != nil {
		t.Fatal(err)
	}
	l, err := proxy.LoadLiveRoutes(file, proxy.RouteFlags{})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name        string
		publish     string // "" publishes nothing
		wantChanged bool
		wantErr     string
		wantPolicy  string // of /reports afterwards
	}{
		{"nothing changed", "", false, "", "role:admin"},
		{"a new version", "routes:\n  - path: /reports\n    policy: role:auditor\n", true, "", "role:auditor"},
		{"the same content again", "routes:\n  - path: /reports\n    policy: role:auditor\n", false, "", "role:auditor"},
		{"a broken version", "routes:\n  - path: /reports\n    policy: role:auditor\n    methods: GET\n", true,
			"routes.yaml:4:14: methods: expected a list", "role:auditor"},
		{"the broken version, looked at again", "", false, "", "role:auditor"},
		{"fixed", "routes:\n  - path: /reports\n    public: true\n", true, "", "public"},
	}
	policy := "role:admin"
	for _, s := range steps {
		if s.publish != "" {
			publish(s.publish)
			if changed, _, err := l.ReloadIfChanged(); changed || err != nil || policyOf(l, "/reports") != policy {
				t.Errorf("%s: the first look reloaded (%v, %v, /reports needs %s); want the change noted only, "+
					"/reports still %s", s.name, changed, err, policyOf(l, "/reports"), policy)
			}
		}
		policy = s.wantPolicy
		changed, _, err := l.ReloadIfChanged()
		if changed != s.wantChanged {
			t.Errorf("%s: changed %v, want %v", s.name, changed, s.wantChanged)
		}
		if (err != nil) != (s.wantErr != "") || err != nil && !strings.Contains(err.Error(), s.wantErr) {
			t.Errorf("%s: error %v, want %q", s.name, err, s.wantErr)
		}
		if got := policyOf(l, "/reports"); got != s.wantPolicy {
			t.Errorf("%s: /reports needs %s, want %s", s.name, got, s.wantPolicy)
		}
	}
}

// TestLiveRoutesChangeTakenWhenSteady: a routes file written in place can be read half-written, and the first
// half of a routes file often parses (its later rules missing, their paths falling to the default). A change is
// put in force only once two looks in a row read the same content; a change undone before that is never put in
// force; Reload (SIGHUP) takes the file at once.
func TestLiveRoutesChangeTakenWhenSteady(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "routes.yaml")
	full := "routes:\n  - path: /reports\n    policy: role:auditor\n  - path: /admin\n    policy: role:admin\n"
	half := full[:strings.Index(full, "  - path: /admin")] // what a reader may see mid-write: it parses
	inPlace := func(content string) {                      // the same inode, as an editor or `cat >` writes it
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	inPlace(full)
	l, err := proxy.LoadLiveRoutes(file, proxy.RouteFlags{Default: "authenticated"})
	if err != nil {
		t.Fatal(err)
	}
	look := func(step string, wantChanged bool, wantAdmin string) {
		t.Helper()
		changed, _, err := l.ReloadIfChanged()
		if err != nil || changed != wantChanged || policyOf(l, "/admin") != wantAdmin {
			t.Errorf("%s: changed %v, error %v, /admin needs %s; want changed %v, /admin %s", step, changed, err,
				policyOf(l, "/admin"), wantChanged, wantAdmin)
		}
	}
	inPlace(half)
	look("half-written, first look", false, "role:admin")
	inPlace(full)
	look("complete again before the next look", false, "role:admin")
	look("complete, unchanged since", false, "role:admin")

	edited := strings.Replace(full, "role:admin", "role:root", 1)
	inPlace(edited[:len(edited)-20])
	look("an edit, half-written", false, "role:admin")
	inPlace(edited)
	look("the edit complete, first look", false, "role:admin")
	look("the edit complete, second look", true, "role:root")
	look("nothing changed", false, "role:root")

	inPlace(full)
	if _, err := l.Reload(); err != nil || policyOf(l, "/admin") != "role:admin" {
		t.Errorf("Reload: %v, /admin needs %s; want the file taken at once, role:admin", err, policyOf(l, "/admin"))
	}
	look("after Reload", false, "role:admin")
}

// TestLiveRoutesReloadUnderLoad reloads the routes again and again while clients send requests through the
// proxy: no request fails, and each is decided by the old routes or the new ones, never by a mix or by none.
// /x is public in one version and an admin-only API in the other; /y the other way round.
func TestLiveRoutesReloadUnderLoad(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "routes.yaml")
	versions := []string{
		"routes:\n  - path: /x\n    public: true\n  - path: /y\n    api: true\n    policy: role:admin\n",
		"routes:\n  - path: /x\n    api: true\n    policy: role:admin\n  - path: /y\n    public: true\n",
	}
	writeFile(t, file, versions[0])
	live, err := proxy.LoadLiveRoutes(file, proxy.RouteFlags{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{live: live})

	const workers, perWorker = 4, 400
	stop := make(chan struct{})
	var reloads atomic.Int64
	var reloader sync.WaitGroup
	reloader.Add(1)
	go func() {
		defer reloader.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Microsecond):
			}
			writeFile(t, file, versions[i%2])
			if _, err := live.Reload(); err != nil {
				t.Errorf("reload %d: %v", i, err)
				return
			}
			reloads.Add(1)
		}
	}()

	var mu sync.Mutex
	outcomes := map[string]int{}
	var failed []string
	var clients sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	start := time.Now()
	for w := range workers {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for i := range perWorker {
				path := []string{"/x", "/y"}[(w+i)%2]
				req, _ := http.NewRequest(http.MethodGet, e.proxy.URL+path, nil)
				req.Header.Set("Accept", "application/json")
				resp, err := client.Do(req)
				outcome := ""
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					switch {
					case resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"path":"`+path+`"`):
						outcome = path + " public"
					case resp.StatusCode == http.StatusUnauthorized:
						outcome = path + " login required"
					default:
						err = fmt.Errorf("%d %.100s", resp.StatusCode, body)
					}
				}
				mu.Lock()
				if err != nil {
					failed = append(failed, fmt.Sprintf("GET %s: %v", path, err))
				} else {
					outcomes[outcome]++
				}
				mu.Unlock()
			}
		}()
	}
	clients.Wait()
	took := time.Since(start)
	close(stop)
	reloader.Wait()
	t.Logf("%d requests in %s (%.0f/s) during %d reloads: %v", workers*perWorker, took.Round(time.Millisecond),
		float64(workers*perWorker)/took.Seconds(), reloads.Load(), outcomes)
	if len(failed) > 0 {
		t.Errorf("%d of %d requests failed, first: %s", len(failed), workers*perWorker, failed[0])
	}
	if reloads.Load() < 10 {
		t.Errorf("only %d reloads happened during the load; the test proves little", reloads.Load())
	}
	for _, want := range []string{"/x public", "/x login required", "/y public", "/y login required"} {
		if outcomes[want] == 0 {
			t.Errorf("no request answered %q: both versions of the routes should have decided some", want)
		}
	}
}

// TestLiveRoutesInFlightRequestKeepsItsRoutes: a request admitted by the old routes streams to its end after a
// reload that closes its path; the next request is decided by the new routes.
func TestLiveRoutesInFlightRequestKeepsItsRoutes(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "routes.yaml")
	writeFile(t, file, "routes:\n  - path: /events\n    public: true\n")
	live, err := proxy.LoadLiveRoutes(file, proxy.RouteFlags{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{live: live})
	req, _ := http.NewRequest(http.MethodGet, e.proxy.URL+"/events", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, len("data: event 0\n\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /events: %d %q %v", resp.StatusCode, first, err)
	}
	writeFile(t, file, "routes:\n  - path: /events\n    api: true\n    policy: role:admin\n")
	if _, err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "data: event 1\n\ndata: event 2\n\n" {
		t.Errorf("the stream admitted before the reload ended with %q, %v; want the remaining events", rest, err)
	}
	if got := statusOfGet(t, e.proxy.URL+"/events"); got != http.StatusUnauthorized {
		t.Errorf("GET /events after the reload: %d, want 401 from the new routes", got)
	}
}

// statusOfGet returns the status of an API client's GET of url.
func statusOfGet(t *testing.T, url string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
