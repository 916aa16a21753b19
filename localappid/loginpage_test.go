package localappid_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// TestSignInPage: the sign-in page is the shared accessible page with a strict policy; with ShowUsers it lists the
// demo users with their passwords and their current roles, and without it shows no password at all.
func TestSignInPage(t *testing.T) {
	for _, show := range []bool{false, true} {
		f := newFixture(t, func(c *localappid.Config) { c.ShowUsers = show })
		page := get(t, browser(t), f.iss+"/authorization?"+authParams(appRedirect, "").Encode())
		if page.status != http.StatusOK {
			t.Fatalf("status %d", page.status)
		}
		for _, want := range []string{`<html lang="en">`, "<main>", `<label for="username">`, `<label for="password">`,
			"Sign in to appidgate demo"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("sign-in page lacks %q", want)
			}
		}
		if csp := page.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'; frame-ancestors 'none'; style-src 'sha256-") {
			t.Errorf("CSP %q", csp)
		}
		listed := strings.Contains(page.body, "<td><code>carol</code></td><td><code>carol</code></td><td>user, admin</td>") &&
			strings.Contains(page.body, "<td><code>bob</code></td><td><code>bob</code></td><td>none</td>")
		if listed != show {
			t.Errorf("ShowUsers %v: demo users listed %v:\n%s", show, listed, page.body)
		}
	}
}

// TestTemplatesDirReplacesProviderPages: TemplatesDir replaces the sign-in and error pages, and a template that
// does not parse stops New naming the file.
func TestTemplatesDirReplacesProviderPages(t *testing.T) {
	dir := t.TempDir()
	page := `<!doctype html><html lang="en"><main><h1>ACME sign-in for {{.ClientName}}</h1>` +
		`<form method="post" action="{{.Action}}">{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}` +
		`<input name="username"><input name="password" type="password"><button type="submit">Go</button></form></main></html>`
	if err := os.WriteFile(filepath.Join(dir, "signin.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *localappid.Config) { c.TemplatesDir = dir })
	c := browser(t)
	got := get(t, c, f.iss+"/authorization?"+authParams(appRedirect, "").Encode())
	if !strings.Contains(got.body, "ACME sign-in for appidgate demo") {
		t.Fatalf("replaced sign-in page: %s", got.body)
	}
	if loc := login(t, f, c, authParams(appRedirect, ""), "alice", "alice"); loc.Query().Get("code") == "" {
		t.Errorf("the replaced form does not sign in: %s", loc)
	}

	if err := os.WriteFile(filepath.Join(dir, "error.html"), []byte("{{.Title"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := localappid.DefaultConfig()
	cfg.SigningKey = testkit.RSAKey()
	cfg.TemplatesDir = dir
	if _, err := localappid.New(cfg); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "error.html")) {
		t.Errorf("New with a bad template: %v, want an error naming error.html", err)
	}
}
