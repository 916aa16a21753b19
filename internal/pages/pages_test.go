package pages

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// styleElement captures the inline stylesheet of a page.
var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// render renders data with s, failing the test on an error.
func render(t *testing.T, s *Set, data Data) string {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Render(&buf, data); err != nil {
		t.Fatalf("rendering %s: %v", data.page(), err)
	}
	return buf.String()
}

// writeDir makes a templates folder holding files (name -> content).
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBuiltinPages: every page renders with full and with empty data into a document a screen reader and a
// phone can use (lang, viewport, a main landmark, one heading), with the stylesheet the StyleSrc hash allows.
func TestBuiltinPages(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names() {
		for i, data := range samples()[n] {
			out := render(t, s, data)
			for _, want := range []string{`<html lang="en">`, `<meta name="viewport" content="width=device-width, initial-scale=1">`,
				"<main>", "</main>", "<title>"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s sample %d lacks %s:\n%s", n, i, want, out)
				}
			}
			if got := strings.Count(out, "<h1>"); got != 1 {
				t.Errorf("%s sample %d has %d <h1>, want 1", n, i, got)
			}
			m := styleElement.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("%s has no <style>", n)
			}
			sum := sha256.Sum256([]byte(m[1]))
			if want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; s.StyleSrc() != want {
				t.Errorf("%s: StyleSrc %q does not allow its stylesheet (%q)", n, s.StyleSrc(), want)
			}
			if strings.Contains(out, "<script") || strings.Contains(out, " style=") {
				t.Errorf("%s has a script or a style attribute, which the policy would block", n)
			}
		}
	}
}

// TestPageTexts: each page says what it is for with the data it is given.
func TestPageTexts(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    Data
		want    []string
		notWant []string
	}{
		{"403 names the user, the need and the contact", Forbidden{User: User{ID: "b0b", Name: "Bob", Email: "bob@example.com"},
			Required: "at least one role", Policy: "any_role", Contact: "it@example.com", ContactURL: "mailto:it@example.com",
			LogoutAction: "/logout", ReturnTo: "/afterauth", RequestID: "req-1"},
			[]string{"Unauthorized!", "Bob", "bob@example.com", "b0b", "at least one role", `href="mailto:it@example.com"`,
				`<form method="post" action="/logout"><input type="hidden" name="return_to" value="/afterauth">`,
				"Sign in as someone else", "req-1"}, nil},
		{"403 without a contact", Forbidden{User: User{ID: "b0b"}, LogoutAction: "/logout"},
			[]string{"the people who run this application"}, []string{"<a href"}},
		{"403 free-text contact", Forbidden{Contact: "the help desk, extension 4455", LogoutAction: "/logout"},
			[]string{"the help desk, extension 4455"}, []string{"<a href"}},
		{"failure", Error{Status: 503, Title: "Could not reach the identity provider", Message: "Try later.",
			RetryURL: "/auth_route?x=1", RequestID: "abc"},
			[]string{"Error 503", "Could not reach the identity provider", `href="/auth_route?x=1"`,
				"Try again", "abc"}, nil},
		{"notice below 400 has no error badge", Error{Status: 200, Title: "Signed out"}, []string{"Signed out"},
			[]string{"Error 200", "Try again", "request id"}},
		{"sign-in lists demo users", SignIn{ClientName: "demo", Action: "/a",
			Hidden:    []Field{{"state", "s1"}},
			DemoUsers: []DemoUser{{"alice", "alice", []string{"user"}}, {"bob", "bob", nil}}},
			[]string{`<form method="post" action="/a">`, `<input type="hidden" name="state" value="s1">`,
				`<label for="username">`, `<label for="password">`, "Demo users", "<td>user</td>", "<td>none</td>"}, nil},
		{"sign-in without demo users", SignIn{ClientName: "demo", Action: "/a"}, nil, []string{"Demo users"}},
		{"logout confirmation", Logout{User: User{ID: "1", Name: "Alice", Email: "a@example.com"}, Action: "/logout", CancelURL: "/"},
			[]string{`<form method="post" action="/logout">`, "Alice", "(a@example.com)", "Stay signed in"},
			[]string{"return_to"}},
		{"signed out, provider told", SignedOut{SignInURL: "/"}, []string{"You are logged out", `href="/"`},
			[]string{"may still sign you in again", "Continue"}},
		{"signed out, provider not told", SignedOut{SignInURL: "/", ProviderSessionKept: true},
			[]string{"may still sign you in again"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, s, tc.data)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("has %q:\n%s", w, out)
				}
			}
		})
	}
	if out := render(t, s, Forbidden{}); strings.Count(out, "Unauthorized!") != 1 {
		t.Errorf("the 403 page says Unauthorized! %d times, want once", strings.Count(out, "Unauthorized!"))
	}
}

// TestHostileDataIsEscaped: whatever a user name, a provider's message or a return path holds, it stays text,
// and links never take a script URL.
func TestHostileDataIsEscaped(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	const evil = `"><script>alert(1)</script><img src=x onerror=alert(1)>`
	for _, data := range []Data{
		Forbidden{User: User{ID: evil, Name: evil, Email: evil}, Required: evil, Policy: evil, Contact: evil,
			ContactURL: "javascript:alert(1)", LogoutAction: "/logout", ReturnTo: evil, RequestID: evil},
		Error{Status: 502, Title: evil, Message: evil, RetryURL: "javascript:alert(1)", RequestID: evil},
		SignIn{ClientName: evil, Action: "javascript:alert(1)", Username: evil, Message: evil,
			Hidden: []Field{{evil, evil}}, DemoUsers: []DemoUser{{evil, evil, []string{evil}}}},
		Logout{User: User{ID: evil, Name: evil}, Action: "/logout", ReturnTo: evil, CancelURL: "javascript:alert(1)"},
		SignedOut{SignInURL: "javascript:alert(1)"},
		Profile{User: User{ID: evil, Name: evil, Email: evil, Roles: []string{evil}, Scopes: []string{evil}},
			Links: []Link{{"javascript:alert(1)", evil, true}}, LogoutAction: "/logout"},
	} {
		out := render(t, s, data)
		for _, bad := range []string{"<script", "<img", "javascript:"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: hostile data came through as %q:\n%s", data.page(), bad, out)
			}
		}
	}
}

// TestOverrides: a file in the folder replaces its page and only that page; a layout or stylesheet replaces the
// frame or style of every page, and StyleSrc allows the replaced stylesheet.
func TestOverrides(t *testing.T) {
	builtin, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	dir := writeDir(t, map[string]string{
		"forbidden.html": `<!doctype html><html lang="en"><title>No</title><main><h1>Ask {{.Contact}}</h1></main></html>`,
		".DS_Store":      "hidden files are ignored",
	})
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if out := render(t, s, Forbidden{Contact: "Carol"}); out != `<!doctype html><html lang="en"><title>No</title><main><h1>Ask Carol</h1></main></html>` {
		t.Errorf("replaced 403 page: %q", out)
	}
	if got, want := render(t, s, Error{Title: "x"}), render(t, builtin, Error{Title: "x"}); got != want {
		t.Errorf("a page not replaced changed:\n%s\nwant\n%s", got, want)
	}

	dir = writeDir(t, map[string]string{
		"layout.html": `{{define "layout"}}<!doctype html><html lang="en"><head><style>{{css}}</style></head>` +
			`<body><header>ACME</header><main>{{template "main" .}}</main></body></html>{{end}}`,
		"style.css": "body{color:rebeccapurple}",
	})
	s, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names() {
		out := render(t, s, samples()[n][0])
		if !strings.Contains(out, "<header>ACME</header>") || !strings.Contains(out, "<style>body{color:rebeccapurple}</style>") {
			t.Errorf("%s does not use the replaced layout and stylesheet:\n%s", n, out)
		}
	}
	sum := sha256.Sum256([]byte("body{color:rebeccapurple}"))
	if want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; s.StyleSrc() != want {
		t.Errorf("StyleSrc %q, want %q for the replaced stylesheet", s.StyleSrc(), want)
	}
}

// TestBadOverridesStopStartUp: a template that does not parse, names a field its data lacks, fails on empty
// data, or a file that is no page, is an error naming the file; every bad file is named at once.
func TestBadOverridesStopStartUp(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each must appear in the error
	}{
		{"does not parse", map[string]string{"error.html": "{{if .Title}}unclosed"}, []string{"error.html", "unexpected EOF"}},
		{"unknown field", map[string]string{"forbidden.html": "{{.Usr.Name}}"}, []string{"forbidden.html", "Usr"}},
		{"fails on empty data", map[string]string{"signin.html": `{{(index .Hidden 0).Name}}`}, []string{"signin.html", "index"}},
		{"unknown template", map[string]string{"logout.html": `{{template "nope" .}}`}, []string{"logout.html", "nope"}},
		{"unknown page", map[string]string{"welcome.html": "hi"}, []string{"welcome.html", "not a page", "forbidden.html"}},
		{"a folder", map[string]string{}, []string{"templates folder"}},
		{"layout does not parse", map[string]string{"layout.html": `{{define "layout"}}`}, []string{"layout.html"}},
		{"several at once", map[string]string{"error.html": "{{", "profile.html": "{{.Nope}}", "x.txt": ""},
			[]string{"error.html", "profile.html", "x.txt"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeDir(t, tc.files)
			if tc.name == "a folder" {
				dir = filepath.Join(dir, "missing")
			}
			s, err := Load(dir)
			if err == nil {
				t.Fatalf("Load accepted %v", tc.files)
			}
			if s != nil {
				t.Error("Load returned a Set with its error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			for name := range tc.files {
				if !strings.Contains(err.Error(), filepath.Join(dir, name)) && tc.name != "several at once" {
					t.Errorf("error %q does not give the path of %s", err, name)
				}
			}
		})
	}
}

// TestFailingOverrideFallsBack: a replaced page that fails on a request's data, though it passed the start-up
// check, answers with the built-in page and reports the error.
func TestFailingOverrideFallsBack(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"error.html": `{{if eq .Title "boom"}}{{index .Message 99}}{{end}}custom {{.Title}}`,
	})
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if out := render(t, s, Error{Title: "fine"}); out != "custom fine" {
		t.Errorf("replaced page: %q", out)
	}
	var buf bytes.Buffer
	err = s.Render(&buf, Error{Status: 502, Title: "boom", Message: "short"})
	if err == nil || !strings.Contains(err.Error(), "error.html") {
		t.Errorf("Render error %v, want one naming error.html", err)
	}
	if out := buf.String(); strings.Contains(out, "custom") || !strings.Contains(out, "<h1>boom</h1>") {
		t.Errorf("fallback page: %q, want the built-in page", out)
	}
}

// TestWrite: the answer carries the status, an HTML type, no caching, and the caller's policy with the style
// hash added.
func TestWrite(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := s.Write(rec, http.StatusForbidden, "default-src 'none'", Forbidden{}); err != nil {
		t.Fatal(err)
	}
	h := rec.Header()
	if rec.Code != http.StatusForbidden || h.Get("Content-Type") != "text/html; charset=utf-8" ||
		h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Content-Security-Policy") != "default-src 'none'; "+s.StyleSrc() {
		t.Errorf("Write: %d %v", rec.Code, h)
	}
	if !strings.Contains(rec.Body.String(), "Unauthorized!") {
		t.Errorf("body: %s", rec.Body)
	}
}
