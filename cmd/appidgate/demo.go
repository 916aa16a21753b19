package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/pages"
	"github.com/appidgate/appidgate/internal/problem"
	"github.com/appidgate/appidgate/localappid"
)

// referenceVariables are the six settings of the reference app, all required when App ID is used.
var referenceVariables = []string{
	"APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "APPID_OAUTH_SERVER_URL", "APPID_REDIRECT_URI",
	"SESSION_SECRET_KEY", "IBM_CLOUD_APIKEY",
}

const demoUsage = `usage: appidgate demo

Runs an example app with login and role checks: / and /auth_route (login and at least one role),
/noauth_route (open to everyone), /afterauth (the login callback), /profile, /api/auth_route (a bearer token
with the scope view), /logout, /healthz, /readyz and /metrics.

Its settings come from environment variables: with APPID_OAUTH_SERVER_URL and the other App ID settings it
uses IBM Cloud App ID; with APPIDGATE_PROVIDER=oidc and APPIDGATE_ISSUER_URL any OpenID Connect provider
(roles from APPIDGATE_ROLES_CLAIM); without them it starts the embedded local App ID-compatible provider, with
users alice, bob and carol. Getting started: docs/getting-started.md. Every setting: docs/configuration.md.
`

// runDemo runs the example app, on App ID or on the embedded local provider (see startRelyingParty).
func runDemo(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("appidgate demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // usage and errors are printed below, once
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, demoUsage)
			return 0
		}
		fmt.Fprintf(e.stderr, "appidgate demo: %v\n\n%s", err, demoUsage)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "appidgate demo: unexpected arguments %q\n", fs.Args())
		return 2
	}

	rp, code := startRelyingParty(ctx, e, "demo", nil, nil)
	if rp == nil {
		return code
	}
	defer rp.Close()
	app, cfg, local := rp.app, rp.cfg, rp.local

	set, err := pages.Load(cfg.TemplatesDir) // checked with the settings; read again here for the profile page
	if err != nil {
		fmt.Fprintf(e.stderr, "appidgate demo: APPIDGATE_TEMPLATES_DIR: %v\n", err)
		return 2
	}
	mux := http.NewServeMux()
	demoRoutes(mux, app.auth, cfg.Provider, set, rp.opts.logger)
	app.mountOps(mux)
	var handler http.Handler = mux
	if local && !rp.opts.localIdP {
		// Cookies are per host name: a login started on 127.0.0.1 could not finish on localhost, the host of the
		// redirect URI. Send every page to that one origin.
		handler = canonicalHost(cfg.RedirectURL, rp.opts.logger, mux)
	}

	base := strings.TrimSuffix(cfg.RedirectURL, "/afterauth")
	printBanner(e, base, cfg, rp.idp)
	rp.logStarted("demo", base)
	return app.serve(ctx, rp.ln, handler)
}

func printBanner(e env, base string, cfg appid.Config, idp *localappid.Server) {
	fmt.Fprintf(e.stdout, "appidgate demo: open %s\n", base)
	if idp == nil {
		kind := "IBM Cloud App ID"
		if cfg.Provider == appid.ProviderOIDC {
			kind = "OpenID Connect, roles from the " + cfg.RolesClaim + " claim"
		}
		fmt.Fprintf(e.stdout, "  provider: %s (%s)\n", cfg.OAuthServerURL, kind)
		return
	}
	fmt.Fprintf(e.stdout, "  local App ID provider: %s (no cloud account needed)\n", cfg.OAuthServerURL)
	fmt.Fprintf(e.stdout, "  API token: curl -H \"Authorization: Bearer $(appidgate idp token --url %s alice)\" %s/api/auth_route\n",
		cfg.OAuthServerURL, base)
	fmt.Fprintf(e.stdout, "  users (the password is the user name):\n")
	for _, u := range localappid.DefaultConfig().Users {
		roles := strings.Join(u.Roles, ", ")
		if roles == "" {
			roles = "none (gets \"Unauthorized!\")"
		}
		fmt.Fprintf(e.stdout, "    %-6s roles: %s\n", u.Username, roles)
	}
}

func configError(e env, problems []appid.Problem) int {
	fmt.Fprintf(e.stderr, "appidgate: cannot start, fix these settings:\n  %s\n", problem.Join(problems, "\n  "))
	return 2
}
