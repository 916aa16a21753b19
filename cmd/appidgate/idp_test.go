package main

import (
	"context"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/buildinfo"
	"github.com/appidgate/appidgate/internal/testkit"
)

func idpEnv() (env, *testkit.Buffer, *testkit.Buffer) {
	stdout, stderr := &testkit.Buffer{}, &testkit.Buffer{}
	return env{stdout: stdout, stderr: stderr, getenv: func(string) string { return "" },
		lookupEnv: func(string) (string, bool) { return "", false }}, stdout, stderr
}

func cancelledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestRunIdPBadInput: bad flags or config exit 2 with one message naming every problem, and nothing is served. A bad
// flag gets its error and a pointer to --help, not the whole usage.
func TestRunIdPBadInput(t *testing.T) {
	t.Parallel()
	badConfig := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(badConfig, []byte("clients:\n  - id: web\nusers:\n  - id: u1\n    username: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown flag", []string{"--port", "1"}, []string{"appidgate idp: flag provided but not defined: -port\nrun 'appidgate idp --help' for usage\n"}},
		{"flag without its value", []string{"--addr"}, []string{"appidgate idp: flag needs an argument: -addr\nrun 'appidgate idp --help' for usage\n"}},
		{"bad addr", []string{"--addr", "5001"}, []string{`--addr: expected host:port, got "5001"`}},
		{"bad config", []string{"--config", badConfig}, []string{badConfig, "clients[0].secret: missing", "users[0].password: missing"}},
		{"missing config", []string{"--config", filepath.Join(t.TempDir(), "none.yaml")}, []string{"--config:", "none.yaml"}},
		{"issuer with a path", []string{"--issuer-url", "http://idp.example/elsewhere"}, []string{"--issuer-url:", "without path"}},
		{"issuer not a URL", []string{"--issuer-url", "idp.example"}, []string{"--issuer-url:", "origin"}},
		{"every problem at once", []string{"--addr", "nope", "--issuer-url", "ftp://x"}, []string{"--addr:", "--issuer-url:"}},
		{"stray argument", []string{"extra"}, []string{"unexpected arguments: extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, stdout, stderr := idpEnv()
			if code := runIdP(cancelledContext(), tc.args, e); code != 2 {
				t.Fatalf("exit %d, want 2; stderr %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stdout.String(), "APPID_OAUTH_SERVER_URL") {
				t.Errorf("started despite bad input: %s", stdout)
			}
			if strings.Contains(stderr.String(), "usage:") || strings.Count(stderr.String(), "\n") > 1+len(tc.want) {
				t.Errorf("stderr is more than the problems and a pointer to --help:\n%s", stderr)
			}
		})
	}
}

// TestRunIdPConfigUsersWithoutID: a config file whose users have no id starts, with stable ids derived from the
// usernames (the same on every run), shown in the user list.
func TestRunIdPConfigUsersWithoutID(t *testing.T) {
	t.Parallel()
	config := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(config, []byte("users:\n  - username: dave\n    password: pw\n  - email: erin@example.com\n    password: pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	idLine := regexp.MustCompile(`(?m)^  (\S+)\s+roles: \(none\)\s+id: ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	var runs []map[string]string
	for range 2 {
		e, stdout, stderr := idpEnv()
		if code := runIdP(cancelledContext(), []string{"--addr", "127.0.0.1:0", "--config", config}, e); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		ids := map[string]string{}
		for _, m := range idLine.FindAllStringSubmatch(stdout.String(), -1) {
			ids[m[1]] = m[2]
		}
		if len(ids) != 2 || ids["dave"] == "" || ids["erin@example.com"] == "" || ids["dave"] == ids["erin@example.com"] {
			t.Fatalf("want two distinct UUID-shaped ids for dave and erin@example.com:\n%s", stdout)
		}
		runs = append(runs, ids)
	}
	if !maps.Equal(runs[0], runs[1]) {
		t.Fatalf("ids changed between runs: %v then %v", runs[0], runs[1])
	}
}

// printedSettings returns the settings of the `export NAME=value` lines runIdP printed, as a POSIX shell would
// set them (the test of shellQuote checks the quoting against a real shell).
func printedSettings(out string) map[string]string {
	settings := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		line, ok := strings.CutPrefix(line, "export ")
		if !ok {
			continue
		}
		if name, value, ok := strings.Cut(line, "="); ok && name != "" && strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == "" {
			if unquoted, ok := strings.CutPrefix(value, "'"); ok {
				value = strings.ReplaceAll(strings.TrimSuffix(unquoted, "'"), `'\''`, "'")
			}
			settings[name] = value
		}
	}
	return settings
}

// TestShellQuote runs export lines through sh and checks each value arrives unchanged.
func TestShellQuote(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, value := range []string{
		"http://127.0.0.1:5001/oauth/v4/local-tenant", "appidgate-demo-secret", "", "two words", "it's",
		"$HOME", "`id`", "a\\b", "x;y", "*", "~user", "new\nline", "'quoted'",
	} {
		t.Run(value, func(t *testing.T) {
			line := "export V=" + shellQuote(value)
			out, err := exec.Command(sh, "-c", line+"\nprintf %s \"$V\"").Output()
			if err != nil || string(out) != value {
				t.Fatalf("sh -c %q printed %q (%v), want %q", line, out, err, value)
			}
			// printedSettings reads line by line, so a value with a newline is for the shell only.
			if got := printedSettings(line)["V"]; got != value && !strings.Contains(value, "\n") {
				t.Errorf("printedSettings(%q) = %q, want %q", line, got, value)
			}
		})
	}
}

// TestRunIdPPrintsDemoSettings: with the demo data, the printed lines are every setting appidgate demo needs
// (APPID_REDIRECT_URI and a SESSION_SECRET_KEY generated for this run included), and they form a valid appid
// configuration; with a config file, only the provider's own URLs are printed.
func TestRunIdPPrintsDemoSettings(t *testing.T) {
	t.Parallel()
	config := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(config, []byte("tenant: t1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		wantDemo bool
	}{
		{"demo data", nil, true},
		{"config file", []string{"--config", config}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var keys []string
			for range 2 {
				e, stdout, stderr := idpEnv()
				if code := runIdP(cancelledContext(), append([]string{"--addr", "127.0.0.1:0"}, tc.args...), e); code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				settings := printedSettings(stdout.String())
				_, hasRedirect := settings["APPID_REDIRECT_URI"]
				if hasRedirect != tc.wantDemo || settings["APPID_OAUTH_SERVER_URL"] == "" || settings["IAM_TOKEN_URL"] == "" {
					t.Fatalf("settings %v; want the demo's (%v):\n%s", settings, tc.wantDemo, stdout)
				}
				if !tc.wantDemo {
					return
				}
				if settings["APPID_REDIRECT_URI"] != "http://localhost:5000/afterauth" || len(settings["SESSION_SECRET_KEY"]) < 32 ||
					!strings.Contains(stdout.String(), "generated for this run") {
					t.Fatalf("want APPID_REDIRECT_URI http://localhost:5000/afterauth and a generated 32+ character SESSION_SECRET_KEY:\n%s", stdout)
				}
				lookup := func(name string) (string, bool) { v, ok := settings[name]; return v, ok }
				if _, err := appid.ConfigFromLookup(lookup); err != nil {
					t.Fatalf("the printed settings are not a valid appid configuration: %v", err)
				}
				keys = append(keys, settings["SESSION_SECRET_KEY"])
			}
			if keys[0] == keys[1] {
				t.Fatalf("SESSION_SECRET_KEY %q printed on two runs; want a fresh one each run", keys[0])
			}
		})
	}
}

// TestRunIdPHelp prints the usage to stdout and exits 0.
func TestRunIdPHelp(t *testing.T) {
	t.Parallel()
	e, stdout, _ := idpEnv()
	if code := runIdP(context.Background(), []string{"-h"}, e); code != 0 || !strings.Contains(stdout.String(), "--issuer-url") {
		t.Fatalf("exit %d, stdout %s", code, stdout)
	}
}

// TestRunIdPServes: the printed APPID_OAUTH_SERVER_URL serves discovery; cancelling shuts down with exit 0.
func TestRunIdPServes(t *testing.T) {
	t.Parallel()
	e, stdout, stderr := idpEnv()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"idp", "--addr", "127.0.0.1:0"}, e) }()

	var issuer string
	for deadline := time.Now().Add(10 * time.Second); issuer == "" && time.Now().Before(deadline); {
		for _, line := range strings.Split(stdout.String(), "\n") {
			if v, ok := strings.CutPrefix(line, "export APPID_OAUTH_SERVER_URL="); ok {
				issuer = v
			}
		}
		select {
		case code := <-exit:
			t.Fatalf("exited early with %d: %s", code, stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if issuer == "" {
		t.Fatalf("no APPID_OAUTH_SERVER_URL printed: %s", stdout)
	}
	b := buildinfo.Read()
	for _, want := range []string{"export IAM_TOKEN_URL=", "export APPID_CLIENT_ID=appidgate-demo", "alice/alice", "carol/carol", "user, admin",
		"(appidgate " + b.Version + ", commit " + b.Commit() + ")\n"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	res, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var d struct{ Issuer string }
	json.NewDecoder(res.Body).Decode(&d)
	res.Body.Close()
	if res.StatusCode != 200 || d.Issuer != issuer {
		t.Fatalf("discovery: %d issuer %q, want %q", res.StatusCode, d.Issuer, issuer)
	}
	settings := printedSettings(stdout.String())
	login := url.Values{"client_id": {settings["APPID_CLIENT_ID"]}, "redirect_uri": {settings["APPID_REDIRECT_URI"]},
		"response_type": {"code"}, "scope": {"openid"}}
	if res, err := http.Get(issuer + "/authorization?" + login.Encode()); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login page for the printed client and redirect URI: %v %v, want 200", res.Status, err)
	} else {
		res.Body.Close()
	}

	cancel()
	select {
	case code := <-exit:
		if code != 0 || !strings.Contains(stdout.String(), "stopped") {
			t.Fatalf("exit %d after cancel; stderr %s", code, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop after cancel")
	}
}

// TestRunIdPIssuerURL: --issuer-url (origin or full OAuth server URL) sets the advertised URLs.
func TestRunIdPIssuerURL(t *testing.T) {
	t.Parallel()
	for _, flagValue := range []string{"http://idp.example:5001", "http://idp.example:5001/oauth/v4/local-tenant"} {
		t.Run(flagValue, func(t *testing.T) {
			e, stdout, stderr := idpEnv()
			if code := runIdP(cancelledContext(), []string{"--addr", "127.0.0.1:0", "--issuer-url", flagValue}, e); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout.String(), "export APPID_OAUTH_SERVER_URL=http://idp.example:5001/oauth/v4/local-tenant\n") {
				t.Fatalf("stdout: %s", stdout)
			}
		})
	}
}

// TestRunIdPAddressInUse exits 1 when it cannot listen.
func TestRunIdPAddressInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	e, _, stderr := idpEnv()
	if code := runIdP(cancelledContext(), []string{"--addr", ln.Addr().String()}, e); code != 1 || !strings.Contains(stderr.String(), "listening on") {
		t.Fatalf("exit %d, stderr %s; want 1", code, stderr)
	}
}
