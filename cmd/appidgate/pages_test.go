package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
)

// TestBadTemplatesStopStartUp: a template in APPIDGATE_TEMPLATES_DIR that does not parse stops demo and proxy at
// start, with the settings' message naming the file.
func TestBadTemplatesStopStartUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "forbidden.html"), []byte("{{if .User}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"APPIDGATE_TEMPLATES_DIR": dir, "PORT": "0"}
	for name, run := range map[string]func(*bytes.Buffer, *bytes.Buffer) int{
		"demo": func(stdout, stderr *bytes.Buffer) int {
			return runDemo(context.Background(), nil, testEnv(vars, stdout, stderr))
		},
		"proxy": func(stdout, stderr *bytes.Buffer) int {
			return runProxy(context.Background(), []string{"--upstream", "http://127.0.0.1:9"}, testEnv(vars, stdout, stderr))
		},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(&stdout, &stderr); code != 2 ||
			!strings.Contains(stderr.String(), "APPIDGATE_TEMPLATES_DIR: "+filepath.Join(dir, "forbidden.html")) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant 2 naming the file", name, code, stderr.String())
		}
	}
}

// TestDemoPagesUseTemplatesDir: the demo's profile page and the embedded provider's sign-in page come from
// APPIDGATE_TEMPLATES_DIR when it replaces them; the demo's sign-in page lists the demo users.
func TestDemoPagesUseTemplatesDir(t *testing.T) {
	t.Parallel()
	d := startDemo(t, nil)
	login := testkit.NewBrowser(t).Get(d.base + "/auth_route")
	if !strings.Contains(login.Body, "Demo users") || !strings.Contains(login.Body, "<td><code>bob</code></td><td><code>bob</code></td><td>none</td>") {
		t.Errorf("the demo's sign-in page does not list the demo users:\n%s", login.Body)
	}
	d.stop()

	dir := t.TempDir()
	for name, content := range map[string]string{
		"profile.html": "profile of {{.User.Name}}",
		"signin.html":  `<h1>ACME</h1><form method="post" action="{{.Action}}">{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}</form>`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d = startDemo(t, map[string]string{"APPIDGATE_TEMPLATES_DIR": dir})
	b := testkit.NewBrowser(t)
	page := b.Get(d.base + "/profile")
	if !strings.Contains(page.Body, "<h1>ACME</h1>") {
		t.Fatalf("the embedded provider's sign-in page is not the replaced one:\n%s", page.Body)
	}
	if got := b.SignIn(page, "alice", "alice"); got.Status != http.StatusOK || got.Body != "profile of Alice" {
		t.Errorf("/profile: %d %q, want the replaced page", got.Status, got.Body)
	}
}
