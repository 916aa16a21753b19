package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/appidgate/appidgate/internal/settings"
)

// typos are misspelled settings, each with the setting a user meant.
var typos = map[string]string{
	"APPIDGATE_SESION_MAX_AGE": "APPIDGATE_SESSION_MAX_AGE",
	"APPIDGATE_LOG_FORMT":      "APPIDGATE_LOG_FORMAT",
	"APPIDGATE_REDIS_ULR":      "APPIDGATE_REDIS_URL",
}

// typoVars are typos with values, as a user would set them.
func typoVars() map[string]string {
	return map[string]string{"APPIDGATE_SESION_MAX_AGE": "2h", "APPIDGATE_LOG_FORMT": "text",
		"APPIDGATE_REDIS_ULR": "redis://x"}
}

// TestUnknownSettingWarns: a misspelled setting does not stop the demo, but each is a WARN line naming the
// setting the user meant.
func TestUnknownSettingWarns(t *testing.T) {
	t.Parallel()
	vars := typoVars()
	vars["APPIDGATE_LOG_FORMAT"] = "json"
	d := startDemo(t, vars)
	d.stop()
	var warned []string
	for line := range strings.Lines(d.stderr.String()) {
		var rec struct{ Level, Msg string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Level == "WARN" && strings.HasPrefix(rec.Msg, "unknown setting") {
			warned = append(warned, rec.Msg)
		}
	}
	var want []string
	for typo, meant := range typos {
		want = append(want, "unknown setting "+typo+", did you mean "+meant+"?")
	}
	slices.Sort(want)
	slices.Sort(warned)
	if !slices.Equal(warned, want) {
		t.Errorf("warnings %q, want %q; stderr:\n%s", warned, want, d.stderr.String())
	}
}

// TestStrictEnvRefusesUnknownSettings: with APPIDGATE_STRICT_ENV=true (as in the container image) each
// command refuses to start, naming every misspelled setting with the one meant, together with its other problems.
func TestStrictEnvRefusesUnknownSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		run  func(context.Context, []string, env) int
		args []string
	}{
		{"demo", runDemo, nil},
		{"proxy", runProxy, nil}, // without --upstream: a problem of its own, listed with the others
		{"idp", runIdP, []string{"--addr", "127.0.0.1:0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := typoVars()
			vars["APPIDGATE_STRICT_ENV"] = "true"
			vars["PORT"] = "0"
			var stdout, stderr bytes.Buffer
			if code := tc.run(cancelledContext(), tc.args, testEnv(vars, &stdout, &stderr)); code != 2 {
				t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
			}
			for typo, meant := range typos {
				if want := typo + ": unknown setting, did you mean " + meant + "?"; !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			if tc.name == "proxy" && !strings.Contains(stderr.String(), "--upstream (APPIDGATE_UPSTREAM): required") {
				t.Errorf("the unknown settings hide the other problems:\n%s", stderr.String())
			}
			if strings.Contains(stderr.String(), "level=WARN") || strings.Contains(stderr.String(), `"level":"WARN"`) {
				t.Errorf("strict mode also warned:\n%s", stderr.String())
			}
		})
	}
}

// TestNoWarningForKnownOrUnrelatedVariables: every setting of the table, and variables that are not appidgate's,
// pass the check in strict mode without a word.
func TestNoWarningForKnownOrUnrelatedVariables(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"PATH": "/bin", "HOME": "/home/u", "CE_APP": "app", "CE_SUBDOMAIN": "x",
		"SESSION_MANAGER": "local/x", "IBMCLOUD_API_KEY": "k", "APPIDGATE": "1", "LANG": "C.UTF-8"}
	for _, s := range settings.All() {
		if s.Name != "" {
			vars[s.Name] = "x"
		}
	}
	for _, strict := range []string{"false", "true"} {
		vars["APPIDGATE_STRICT_ENV"] = strict
		var logged bytes.Buffer
		e := testEnv(vars, &logged, &logged)
		problems := checkEnviron(e, settings.NewReader(e.lookupEnv, nil), slog.New(slog.NewTextHandler(&logged, nil)))
		if len(problems) > 0 || logged.Len() > 0 {
			t.Errorf("strict=%s: problems %q, log %q", strict, problems, logged.String())
		}
	}
}

// recordingEnv is an env over vars that records every variable a command reads.
type recordingEnv struct {
	mu   sync.Mutex
	read map[string]bool
}

func (r *recordingEnv) env(vars map[string]string, stdout, stderr *bytes.Buffer) env {
	e := testEnv(vars, stdout, stderr)
	getenv, lookup := e.getenv, e.lookupEnv
	note := func(name string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.read[name] = true
	}
	e.getenv = func(name string) string { note(name); return getenv(name) }
	e.lookupEnv = func(name string) (string, bool) { note(name); return lookup(name) }
	return e
}

// TestCommandsReadExactlyTheirSettings: each command reads every variable the settings table says it reads,
// and no other, so that docs/configuration.md and the unknown-setting check are true to the code. Each run
// stops at its start-up problems (the typo, in strict mode), after reading every setting.
func TestCommandsReadExactlyTheirSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		command settings.Command
		run     func(context.Context, []string, env) int
		args    []string
	}{
		{"demo", settings.Demo, runDemo, nil},
		{"proxy", settings.Proxy, runProxy, []string{"--upstream", "http://127.0.0.1:8000"}},
		{"idp", settings.IdP, runIdP, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// An App ID issuer, so that no local provider stands in: every provider setting is read.
			vars := map[string]string{"APPIDGATE_STRICT_ENV": "true", "APPIDGATE_SESION_MAX_AGE": "2h",
				"APPID_OAUTH_SERVER_URL": "https://appid.example/oauth/v4/t", "PORT": "0"}
			rec := &recordingEnv{read: map[string]bool{}}
			var stdout, stderr bytes.Buffer
			if code := tc.run(cancelledContext(), tc.args, rec.env(vars, &stdout, &stderr)); code != 2 {
				t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
			}
			want := map[string]bool{}
			for _, s := range settings.All() {
				if s.Name != "" && s.ReadBy&tc.command != 0 {
					want[s.Name] = true
				}
			}
			for _, name := range slices.Sorted(maps.Keys(rec.read)) {
				if !want[name] {
					t.Errorf("%s reads %s, but the settings table does not say so", tc.name, name)
				}
			}
			for _, name := range slices.Sorted(maps.Keys(want)) {
				if !rec.read[name] {
					t.Errorf("the settings table says %s reads %s, but it does not", tc.name, name)
				}
			}
		})
	}
}

// TestHelpShowsEveryFlagOfTheTable: each flag row of the settings table is a flag of proxy or idp, as their
// --help shows (a flag missing from the table would panic).
func TestHelpShowsEveryFlagOfTheTable(t *testing.T) {
	t.Parallel()
	var help bytes.Buffer
	for _, run := range []func(context.Context, []string, env) int{runProxy, runIdP} {
		var stderr bytes.Buffer
		if code := run(cancelledContext(), []string{"--help"}, testEnv(nil, &help, &stderr)); code != 0 {
			t.Fatalf("--help exit code %d; stderr:\n%s", code, stderr.String())
		}
	}
	for _, s := range settings.All() {
		if s.Flag != "" && !strings.Contains(help.String(), "  -"+s.Flag+" ") &&
			!strings.Contains(help.String(), "  -"+s.Flag+"\n") {
			t.Errorf("--%s is in the settings table but in no --help:\n%s", s.Flag, help.String())
		}
	}
}

// TestHelpPrintedOnce: --help prints the usage once, to stdout, exit 0; a bad flag prints the error and the
// usage once, to stderr, exit 2. Neither says "README.md" or the jargon of the project's history.
func TestHelpPrintedOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		run   func(context.Context, []string, env) int
		usage string
	}{
		{"demo", runDemo, "usage: appidgate demo"},
		{"proxy", runProxy, "usage: appidgate proxy"},
		{"idp", runIdP, "usage: appidgate idp"},
		{"appidgate", run, "usage: appidgate <command>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := tc.run(cancelledContext(), []string{"--help"}, testEnv(nil, &stdout, &stderr)); code != 0 {
				t.Errorf("--help: exit code %d, want 0", code)
			}
			if n := strings.Count(stdout.String(), tc.usage); n != 1 || stderr.Len() > 0 {
				t.Errorf("--help: usage %d times on stdout, stderr %q", n, stderr.String())
			}
			for _, jargon := range []string{"README", "reference", "seed"} {
				if strings.Contains(stdout.String(), jargon) {
					t.Errorf("--help says %q:\n%s", jargon, stdout.String())
				}
			}
			if tc.name == "idp" || tc.name == "appidgate" {
				return // their bad-flag answers are tested on their own
			}
			stdout.Reset()
			stderr.Reset()
			if code := tc.run(cancelledContext(), []string{"--no-such-flag"}, testEnv(nil, &stdout, &stderr)); code != 2 {
				t.Errorf("bad flag: exit code %d, want 2", code)
			}
			if n := strings.Count(stderr.String(), tc.usage); n != 1 || stdout.Len() > 0 ||
				!strings.Contains(stderr.String(), "flag provided but not defined: -no-such-flag") {
				t.Errorf("bad flag: usage %d times on stderr, stdout %q; stderr:\n%s", n, stdout.String(), stderr.String())
			}
		})
	}
}
