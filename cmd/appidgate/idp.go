package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/buildinfo"
	"github.com/appidgate/appidgate/internal/problem"
	"github.com/appidgate/appidgate/internal/settings"
	"github.com/appidgate/appidgate/localappid"
)

const idpUsage = `usage: appidgate idp [--addr host:port] [--config file.yaml|file.json] [--issuer-url http://host:port]
       appidgate idp token [--url URL] [--password P] USER

Runs the local App ID-compatible provider (a demo provider: state in memory, not for production).
With the demo data it prints every setting appidgate demo needs as export lines: paste them into the shell that
runs appidgate demo (or your app). The --config format, every field commented:
localappid/testdata/example-config.yaml in the source.

appidgate idp token USER signs USER in at a running local provider and prints an access token, for
curl -H "Authorization: Bearer $(appidgate idp token alice)" ... (see appidgate idp token --help).

flags:
`

// idpOptions are the idp command's parsed flags.
type idpOptions struct {
	addr, config, issuerURL string
}

// runIdP runs the local provider until ctx is cancelled (SIGTERM/SIGINT), then shuts down gracefully. It returns
// 0 after a clean shutdown, 1 when the provider cannot start or stop, and 2 for bad flags or a bad config file.
// `appidgate idp token USER` prints an access token from a running provider instead (runIdPToken).
func runIdP(ctx context.Context, args []string, e env) int {
	if len(args) > 0 && args[0] == "token" {
		return runIdPToken(ctx, args[1:], e)
	}
	fs := flag.NewFlagSet("idp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o idpOptions
	fs.StringVar(&o.addr, "addr", "127.0.0.1:5001", settings.FlagHelp("addr"))
	fs.StringVar(&o.config, "config", "", settings.FlagHelp("config"))
	fs.StringVar(&o.issuerURL, "issuer-url", "", settings.FlagHelp("issuer-url"))
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, idpUsage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(e.stdout)
			return 0
		}
		fmt.Fprintf(e.stderr, "appidgate idp: %v\nrun 'appidgate idp --help' for usage\n", err)
		return 2
	}

	cfg, problems := o.load()
	problems = append(problems, idpEnvProblems(e)...)
	if fs.NArg() > 0 {
		problems = append(problems, appid.Problem{Setting: "unexpected arguments", Reason: strings.Join(fs.Args(), " ")})
	}
	if len(problems) > 0 {
		fmt.Fprintf(e.stderr, "appidgate idp: cannot start:\n  %s\n", problem.Join(problems, "\n  "))
		return 2
	}

	if cfg.SigningKey == nil {
		cfg.SigningKey = e.signingKey // nil but in tests: a key of its own
	}
	srv, err := localappid.Listen(o.addr, cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "appidgate idp: %s\n", listenProblem(o.addr, err, "choose another --addr"))
		return 1
	}
	printIdPInfo(e.stdout, srv, cfg, o.config == "")
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		fmt.Fprintf(e.stderr, "appidgate idp: %v\n", err)
		return 1
	}
	fmt.Fprintln(e.stdout, "localappid: stopped")
	return 0
}

// load checks the flags and loads the configuration, collecting every problem.
func (o idpOptions) load() (localappid.Config, []appid.Problem) {
	var problems []appid.Problem
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		problems = append(problems, appid.Problem{Setting: "--addr",
			Reason: fmt.Sprintf("expected host:port, got %q", o.addr)})
	}
	cfg := localappid.DefaultConfig()
	cfg.ShowUsers = o.config == "" // the demo data: its sign-in page lists the users
	if o.config != "" {
		loaded, err := localappid.LoadConfig(o.config)
		if err != nil {
			problems = append(problems, appid.Problem{Setting: "--config", Reason: err.Error()})
		} else {
			cfg = loaded
		}
	}
	if o.issuerURL != "" {
		origin, err := issuerOrigin(o.issuerURL, cfg.Tenant)
		if err != nil {
			problems = append(problems, appid.Problem{Setting: "--issuer-url", Reason: err.Error()})
		}
		cfg.BaseURL = origin
	}
	return cfg, problems
}

// newSessionKey returns 32 random bytes, base64url-encoded: a SESSION_SECRET_KEY for one run.
func newSessionKey() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand documents it)
	return base64.RawURLEncoding.EncodeToString(b)
}

// issuerOrigin accepts the public origin (http://host:port) or the full OAuth server URL
// (http://host:port/oauth/v4/<tenant>) and returns the origin.
func issuerOrigin(s, tenant string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("expected an http(s) origin like http://idp.example:5001, got %q", s)
	}
	switch strings.TrimSuffix(u.Path, "/") {
	case "", "/oauth/v4/" + tenant:
		return u.Scheme + "://" + u.Host, nil
	default:
		return "", fmt.Errorf("expected an origin without path (or ending in /oauth/v4/%s), got %q", tenant, s)
	}
}

// demoRedirectURI is where `appidgate demo` receives logins by default; the demo client registers it.
const demoRedirectURI = "http://localhost:5000/afterauth"

// printIdPInfo tells the user what to point a relying party at, and who can log in. The settings are
// `export NAME=value` lines, shell-quoted where needed, to paste into a shell; with the demo data they are every
// setting `appidgate demo` needs, so running them runs the demo against this provider.
func printIdPInfo(w io.Writer, srv *localappid.Server, cfg localappid.Config, demoData bool) {
	p := srv.Provider()
	export := func(name, value string) { fmt.Fprintf(w, "export %s=%s\n", name, shellQuote(value)) }
	b := buildinfo.Read()
	fmt.Fprintf(w, "localappid: App ID-compatible provider (demo: in memory, not for production) listening on %s "+
		"(appidgate %s, commit %s)\n\n", srv.URL(), b.Version, b.Commit())
	fmt.Fprintln(w, "# paste these lines into the shell that runs appidgate demo (or your app)")
	export("APPID_OAUTH_SERVER_URL", p.OAuthServerURL())
	export("IAM_TOKEN_URL", p.IAMTokenURL())
	if demoData {
		export("APPID_CLIENT_ID", localappid.DemoClientID)
		export("APPID_CLIENT_SECRET", localappid.DemoClientSecret)
		export("IBM_CLOUD_APIKEY", localappid.DemoAPIKey)
		export("APPID_REDIRECT_URI", demoRedirectURI)
		fmt.Fprintln(w, "# SESSION_SECRET_KEY below is generated for this run; sessions sealed with it end when you change it")
		export("SESSION_SECRET_KEY", newSessionKey())
	}
	fmt.Fprintf(w, "\nmanagement API: %s\n\nclients:\n", p.ManagementURL())
	for _, c := range cfg.Clients {
		extra := ""
		if c.LoopbackAnyPort {
			extra = " (and any loopback host and port with the same path)"
		}
		fmt.Fprintf(w, "  %s  redirect URIs: %s%s\n", c.ID, strings.Join(c.RedirectURIs, ", "), extra)
	}
	fmt.Fprintln(w, "users:")
	for _, u := range cfg.Users {
		roles := strings.Join(u.Roles, ", ")
		if roles == "" {
			roles = "(none)"
		}
		login := u.Username
		if login == "" {
			login = u.Email
		}
		if demoData {
			login += "/" + u.Password
		}
		fmt.Fprintf(w, "  %-14s roles: %-12s id: %s\n", login, roles, u.ID)
	}
}

// shellQuote returns s as one word of a POSIX shell: unchanged when it holds only characters no shell treats
// specially, else in single quotes (each single quote inside closes them, is escaped, and reopens them).
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
