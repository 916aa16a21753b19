package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/localappid"
)

// referenceVariables are the six settings of the reference app, all required when App ID is used.
var referenceVariables = []string{
	"APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "APPID_OAUTH_SERVER_URL", "APPID_REDIRECT_URI",
	"SESSION_SECRET_KEY", "IBM_CLOUD_APIKEY",
}

// runDemo runs the reference app. With APPID_OAUTH_SERVER_URL set it talks to that App ID instance and needs all
// six reference variables; without it, it starts the local provider in-process on its own origin, unless
// APPIDGATE_REQUIRE_APPID forbids that (as the container image does).
func runDemo(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("appidgate demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: appidgate demo\n\nRuns the reference app. Configuration comes from the environment; see README.md.\n")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "appidgate demo: unexpected arguments %q\n", fs.Args())
		return 2
	}

	opts, problems := readServeOptions(e)
	local := e.getenv("APPID_OAUTH_SERVER_URL") == ""
	switch {
	case local && opts.requireAppID && !opts.localIdP:
		// Let the library name every missing variable, exactly as it would with a partial configuration.
		_, err := appid.ConfigFromLookup(e.lookupEnv)
		problems = append(problems, "APPIDGATE_REQUIRE_APPID is set (as in the container image), so the local provider is off and App ID settings are required:")
		problems = append(problems, problemsOf(err)...)
	case local:
		// Check the settings the user gave against stand-in provider values, so that every problem is named
		// before anything starts.
		if _, err := appid.ConfigFromLookup(overlay(e.lookupEnv, localSettings(placeholderProvider, 5000))); err != nil {
			problems = append(problems, problemsOf(err)...)
		}
	default:
		if _, err := appid.ConfigFromLookup(e.lookupEnv); err != nil {
			problems = append(problems, problemsOf(err)...)
		}
	}
	if len(problems) > 0 {
		return configError(e, problems)
	}
	log := opts.logger

	host := ""
	if local && !opts.localIdP {
		// The demo users have well-known passwords: keep the fallback demo on this machine. Asking for the local
		// provider explicitly (APPIDGATE_LOCAL_IDP, say in a container) listens on every interface.
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", opts.listenAddr(host))
	if err != nil {
		fmt.Fprintf(e.stderr, "appidgate demo: %v\n", err)
		return 1
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	lookup := e.lookupEnv
	var idp *localappid.Server
	if local {
		idpCfg := localappid.DefaultConfig()
		idpCfg.BaseURL = opts.idpURL
		idp, err = localappid.Listen(opts.idpAddr, idpCfg)
		if err != nil {
			fmt.Fprintf(e.stderr, "appidgate demo: starting the local provider: %v\n", err)
			return 1
		}
		defer idp.Close()
		lookup = overlay(e.lookupEnv, localSettings(idp.Provider(), port))
	}

	cfg, err := appid.ConfigFromLookup(lookup)
	if err != nil {
		return configError(e, problemsOf(err))
	}
	app, err := newApp(ctx, cfg, opts)
	if err != nil {
		fmt.Fprintf(e.stderr, "appidgate demo: %v\n", err)
		return 1
	}
	defer app.Close()

	mux := http.NewServeMux()
	demoRoutes(mux, app.auth)
	app.mountOps(mux)

	base := fmt.Sprintf("http://localhost:%d", port)
	if !local {
		base = strings.TrimSuffix(cfg.RedirectURL, "/afterauth")
	}
	printBanner(e, base, cfg, idp)
	log.Info("demo started", "addr", ln.Addr().String(), "provider", cfg.OAuthServerURL, "local_provider", local)
	return app.serve(ctx, ln, mux)
}

// localSettings are the reference variables pointing at the in-process provider; the real environment still
// wins for anything it sets (for example a fixed SESSION_SECRET_KEY, so sessions survive restarts).
func localSettings(p providerURLs, port int) map[string]string {
	key := make([]byte, 32)
	rand.Read(key)
	return map[string]string{
		"APPID_CLIENT_ID":        localappid.DemoClientID,
		"APPID_CLIENT_SECRET":    localappid.DemoClientSecret,
		"APPID_OAUTH_SERVER_URL": p.OAuthServerURL(),
		"APPID_REDIRECT_URI":     fmt.Sprintf("http://localhost:%d/afterauth", port),
		"SESSION_SECRET_KEY":     hex.EncodeToString(key),
		"IBM_CLOUD_APIKEY":       localappid.DemoAPIKey,
		"IAM_TOKEN_URL":          p.IAMTokenURL(),
	}
}

// providerURLs is what the app needs to know of where a provider is.
type providerURLs interface {
	OAuthServerURL() string
	IAMTokenURL() string
}

// placeholderProvider stands in for the local provider while settings are checked, before it starts.
var placeholderProvider providerURLs = fixedURLs{"http://127.0.0.1/oauth/v4/local-tenant", "http://127.0.0.1/identity/token"}

type fixedURLs struct{ oauth, iam string }

func (f fixedURLs) OAuthServerURL() string { return f.oauth }
func (f fixedURLs) IAMTokenURL() string    { return f.iam }

// overlay looks names up in the environment first and falls back to defaults.
func overlay(lookup func(string) (string, bool), defaults map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := lookup(name); ok && v != "" {
			return v, true
		}
		v, ok := defaults[name]
		return v, ok
	}
}

func printBanner(e env, base string, cfg appid.Config, idp *localappid.Server) {
	fmt.Fprintf(e.stdout, "appidgate demo: open %s\n", base)
	if idp == nil {
		fmt.Fprintf(e.stdout, "  provider: %s\n", cfg.OAuthServerURL)
		return
	}
	fmt.Fprintf(e.stdout, "  local App ID provider: %s (no cloud account needed)\n", cfg.OAuthServerURL)
	fmt.Fprintf(e.stdout, "  users (the password is the user name):\n")
	for _, u := range localappid.DefaultConfig().Users {
		roles := strings.Join(u.Roles, ", ")
		if roles == "" {
			roles = "none (gets \"Unauthorized!\")"
		}
		fmt.Fprintf(e.stdout, "    %-6s roles: %s\n", u.Username, roles)
	}
}

func configError(e env, problems []string) int {
	fmt.Fprintf(e.stderr, "appidgate: cannot start, fix these settings:\n  %s\n", strings.Join(problems, "\n  "))
	return 2
}

// problemsOf splits a configuration error of package appid into its problems, one per setting.
func problemsOf(err error) []string {
	if err == nil {
		return nil
	}
	text := strings.TrimPrefix(err.Error(), "appid: invalid configuration:")
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}
