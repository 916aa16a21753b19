package main

import (
	"context"
	"errors"
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

const demoUsage = `usage: appidgate demo

Runs the reference app: / -> /auth_route (login and a role), /noauth_route (open), /afterauth (callback),
/profile, /api/auth_route (a bearer token with scope view), /logout, /healthz, /readyz, /metrics.
Configuration comes from the environment (see README.md): with APPID_OAUTH_SERVER_URL and the other reference
variables it uses IBM Cloud App ID; without them it starts the embedded local App ID-compatible provider, with
users alice, bob and carol.
`

// runDemo runs the reference app. With APPID_OAUTH_SERVER_URL set it talks to that App ID instance and needs all
// six reference variables; without it, it starts the local provider in-process on its own origin, unless
// APPIDGATE_REQUIRE_APPID forbids that (as the container image does).
func runDemo(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("appidgate demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, demoUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(e.stdout)
			fmt.Fprint(e.stdout, demoUsage)
			return 0
		}
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
		lookup, _ := localLookup(e.lookupEnv, placeholderProvider, 5000, opts.localIdP)
		if _, err := appid.ConfigFromLookup(lookup); err != nil {
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
		idpCfg.BaseURL = opts.idpPublicURL()
		idp, err = localappid.Listen(opts.idpAddr, idpCfg)
		if err != nil {
			fmt.Fprintf(e.stderr, "appidgate demo: starting the local provider: %v\n", err)
			return 1
		}
		defer idp.Close()
		var ignored []string
		lookup, ignored = localLookup(e.lookupEnv, idp.Provider(), port, opts.localIdP)
		if len(ignored) > 0 {
			log.Warn("APPID_OAUTH_SERVER_URL is not set, so the local provider is used and these settings are ignored",
				"ignored", strings.Join(ignored, ","))
		}
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
	var handler http.Handler = mux
	if local && !opts.localIdP {
		// Cookies are per host name: a login started on 127.0.0.1 could not finish on localhost, the host of the
		// redirect URI. Send every page to that one origin.
		handler = canonicalHost(fmt.Sprintf("localhost:%d", port), mux)
	}

	base := fmt.Sprintf("http://localhost:%d", port)
	if !local {
		base = strings.TrimSuffix(cfg.RedirectURL, "/afterauth")
	}
	printBanner(e, base, cfg, idp)
	log.Info("demo started", "addr", ln.Addr().String(), "provider", cfg.OAuthServerURL, "local_provider", local)
	return app.serve(ctx, ln, handler)
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

// problemsOf lists the problems of a configuration refused by package appid, one "SETTING: reason" line each;
// any other error is one line of its own.
func problemsOf(err error) []string {
	if err == nil {
		return nil
	}
	var ce *appid.ConfigError
	if !errors.As(err, &ce) {
		return []string{err.Error()}
	}
	out := make([]string, len(ce.Problems))
	for i, p := range ce.Problems {
		out[i] = p.String()
	}
	return out
}
