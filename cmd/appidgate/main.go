// Command appidgate puts IBM Cloud App ID (or any OpenID Connect provider) login and role-based access in front of
// web applications. Its subcommands: demo (an example app with login and role checks), proxy (the same checks
// in front of an app in any language, and forward-auth for nginx, Caddy and Traefik), idp (the local App
// ID-compatible provider), policy (questions to the proxy's routes) and version.
package main

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/appidgate/appidgate/internal/buildinfo"
	"github.com/appidgate/appidgate/internal/server"
)

// env is what a subcommand may touch of the process: its output streams and its environment variables.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	lookupEnv      func(string) (string, bool)
	environ        func() []string  // NAME=value entries, for the unknown-setting check; nil skips it
	hangup         <-chan os.Signal // SIGHUP, which makes the proxy reload its routes; nil: none arrive
	// spans, when set (by tests), receives every span as it ends, whatever the OTEL_* variables say.
	spans sdktrace.SpanExporter
	// signingKey, when set (by tests), is the embedded local provider's signing key instead of a new one: making a
	// 2048-bit RSA key costs more processor time than most of a test.
	signingKey *rsa.PrivateKey
}

const usage = `usage: appidgate <command> [flags]

commands:
  demo     run an example app (login at /auth_route, open /noauth_route) on App ID, another OpenID
           Connect provider, or the embedded local provider
  proxy    put App ID (or OpenID Connect) login and role checks in front of an app in any language
           (--upstream URL)
  idp      run the local App ID-compatible provider on its own (idp token USER: an access token for USER)
  policy   ask the proxy's routes a question: policy check (may this user see METHOD PATH, and why)
           and policy lint (every problem of a routes file, for CI)
  version  print the version, commit and Go version

Run appidgate COMMAND --help for its flags. Getting started: docs/getting-started.md; every setting:
docs/configuration.md.
`

func main() {
	// SIGHUP makes the proxy reload its routes, as daemons such as nginx reload on it: a proxy whose terminal
	// closes keeps running. The other commands have nothing to reload, and stop on it as on SIGTERM.
	stopOn := []os.Signal{os.Interrupt, syscall.SIGTERM}
	var hangup chan os.Signal
	if len(os.Args) > 1 && os.Args[1] == "proxy" {
		hangup = make(chan os.Signal, 1)
		signal.Notify(hangup, syscall.SIGHUP)
	} else {
		stopOn = append(stopOn, syscall.SIGHUP)
	}
	ctx, stop := stopContext(stopOn...)
	code := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, lookupEnv: os.LookupEnv,
		environ: os.Environ, hangup: hangup})
	stop()
	os.Exit(code)
}

// stopContext is a context that ends on the first of sigs, as signal.NotifyContext's, with the signal as its
// cause: server.ErrInterrupted for Ctrl-C, whose server stops without the delay meant for load balancers.
func stopContext(sigs ...os.Signal) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case sig := <-ch:
			if sig == os.Interrupt {
				cancel(server.ErrInterrupted)
			} else {
				cancel(fmt.Errorf("appidgate: received %v", sig))
			}
		case <-ctx.Done():
		}
		signal.Stop(ch) // a second signal gets Go's default: the process ends at once
	}()
	return ctx, func() { cancel(context.Canceled) }
}

// run dispatches to a subcommand and returns the process exit code: 0 on success, 1 on a runtime failure,
// 2 on bad usage or configuration.
func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return 2
	}
	switch args[0] {
	case "demo":
		return runDemo(ctx, args[1:], e)
	case "idp":
		return runIdP(ctx, args[1:], e)
	case "proxy":
		return runProxy(ctx, args[1:], e)
	case "policy":
		return runPolicy(ctx, args[1:], e)
	case "version", "-version", "--version":
		fmt.Fprintln(e.stdout, buildinfo.Read())
		return 0
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, usage)
		return 0
	default:
		fmt.Fprintf(e.stderr, "appidgate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
