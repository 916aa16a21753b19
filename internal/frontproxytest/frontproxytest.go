// Package frontproxytest runs the front-proxy recipes of docs/forward-auth.md (nginx, Caddy) on loopback ports,
// so that the configuration the page shows is the one the tests run.
package frontproxytest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The recipes' placeholders, which Recipe.For replaces with the test's addresses.
const (
	// ProxyAddr is where appidgate listens in the recipes.
	ProxyAddr = "127.0.0.1:4180"
	// AppAddr is where the app listens in the recipes.
	AppAddr = "127.0.0.1:8000"
	// FrontHost is the front proxy's public host in the recipes (nginx: "listen 8090;").
	FrontHost = "localhost:8090"
)

// Recipe reads the configuration block of docs/forward-auth.md marked with "<!-- test: name -->" on the line
// before its opening fence. docPath is the page's path from the calling test's directory.
func Recipe(t testing.TB, docPath, name string) string {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("reading the recipes: %v", err)
	}
	marker := "<!-- test: " + name + " -->"
	_, rest, ok := strings.Cut(string(b), marker+"\n")
	if !ok {
		t.Fatalf("%s has no %q before a fenced block", docPath, marker)
	}
	fence, rest, ok := strings.Cut(rest, "\n")
	if !ok || !strings.HasPrefix(fence, "```") {
		t.Fatalf("%s: %q is not followed by a fenced block", docPath, marker)
	}
	block, _, ok := strings.Cut(rest, "\n```\n")
	if !ok {
		t.Fatalf("%s: the block after %q is not closed", docPath, marker)
	}
	for _, p := range []string{ProxyAddr, AppAddr} {
		if !strings.Contains(block, p) {
			t.Fatalf("%s: the %s recipe does not name %s, which the test replaces", docPath, name, p)
		}
	}
	return block + "\n"
}

// For returns recipe with the placeholders replaced: appidgate at proxy, the app at app, the front proxy
// listening on 127.0.0.1:port.
func For(recipe, proxy, app string, port int) string {
	front := fmt.Sprintf("127.0.0.1:%d", port)
	return strings.NewReplacer(ProxyAddr, proxy, AppAddr, app, "listen 8090;", "listen "+front+";",
		FrontHost, front).Replace(recipe)
}

// Look finds a front proxy's binary, or skips the test (fails it in CI, where .ci/run installs it).
func Look(t testing.TB, name, fallback string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if _, err := os.Stat(fallback); err == nil {
		return fallback
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (.ci/run installs it)", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// Nginx runs nginx with the server block serverBlock (a recipe given For) inside a minimal http block, until
// the test ends, and waits until it listens on port.
func Nginx(t testing.TB, serverBlock string, port int) {
	t.Helper()
	nginx := Look(t, "nginx", "/usr/sbin/nginx")
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	text := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
%[2]s}
`, dir, serverBlock)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, exec.Command(nginx, "-p", dir, "-c", conf, "-e", "stderr"), port)
}

// Caddy runs Caddy with the Caddyfile site block (a recipe given For), without its admin endpoint, until the
// test ends, and waits until it listens on port.
func Caddy(t testing.TB, site string, port int) {
	t.Helper()
	caddy := Look(t, "caddy", "/usr/bin/caddy")
	dir := t.TempDir()
	conf := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(conf, []byte("{\n\tadmin off\n\tauto_https off\n}\n"+site), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(caddy, "run", "--config", conf, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
	start(t, cmd, port)
}

// start runs cmd until the test ends and waits until port accepts connections.
func start(t testing.TB, cmd *exec.Cmd, port int) {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // its own process group: the master and its workers
		<-exited
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(cmd.Path), out.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			t.Fatalf("%s exited: %s", filepath.Base(cmd.Path), out.String())
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s does not listen on %s: %s", filepath.Base(cmd.Path), addr, out.String())
}
