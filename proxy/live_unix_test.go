//go:build unix

package proxy_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appidgate/appidgate/proxy"
)

// within runs f and fails the test when it has not returned after d: a read that blocks would hang the reloader
// (and every later reload) for good.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s still blocked after %v", what, d)
	}
}

// TestLiveRoutesRefuseFIFO: a named pipe at the routes path (or behind its symlink) is a problem reported at
// once, not a read that waits for a writer: at start, on Reload and on the looks of ReloadIfChanged, and the
// routes in force stay.
func TestLiveRoutesRefuseFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "routes.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink("routes.fifo", link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, link} {
		var err error
		within(t, 5*time.Second, "LoadLiveRoutes("+path+")", func() { _, err = proxy.LoadLiveRoutes(path, proxy.RouteFlags{}) })
		if err == nil || !strings.Contains(err.Error(), "not a regular file (a named pipe)") {
			t.Errorf("LoadLiveRoutes(%s): %v, want a problem naming a named pipe", path, err)
		}
	}

	file := filepath.Join(dir, "routes.yaml")
	writeFile(t, file, "routes:\n  - path: /admin\n    policy: role:admin\n")
	l, err := proxy.LoadLiveRoutes(file, proxy.RouteFlags{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(file, 0o600); err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, "Reload", func() { _, err = l.Reload() })
	if err == nil || !strings.Contains(err.Error(), file+": not a regular file") {
		t.Errorf("Reload of a FIFO: %v, want a problem naming the file", err)
	}
	var changed bool
	within(t, 5*time.Second, "ReloadIfChanged", func() {
		l.ReloadIfChanged()
		changed, _, err = l.ReloadIfChanged()
	})
	if changed || err != nil { // Reload reported it already: the looks find nothing new
		t.Errorf("ReloadIfChanged after Reload reported the FIFO: %v, %v; want nothing new", changed, err)
	}
	if got := policyOf(l, "/admin"); got != "role:admin" {
		t.Errorf("/admin after the FIFO: %s, want the old routes' role:admin", got)
	}

	// Found by the looks alone, as the reload interval finds it: the second look reports it.
	os.Remove(file)
	writeFile(t, file, "routes:\n  - path: /admin\n    policy: role:admin\n")
	l, err = proxy.LoadLiveRoutes(file, proxy.RouteFlags{})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(file)
	if err := syscall.Mkfifo(file, 0o600); err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, "two looks at a FIFO", func() {
		if changed, _, err := l.ReloadIfChanged(); changed || err != nil {
			t.Errorf("first look at the FIFO: %v, %v; want the change noted only", changed, err)
		}
		changed, _, err = l.ReloadIfChanged()
	})
	if !changed || err == nil || !strings.Contains(err.Error(), "not a regular file (a named pipe)") {
		t.Errorf("second look at the FIFO: changed %v, %v; want the problem reported", changed, err)
	}
}
