// Command peer runs the processes that the load generator (deploy/load) sets beside `appidgate proxy`: the
// upstream app the proxy passes requests to, and a plain httputil.ReverseProxy in front of the same upstream,
// which is what the proxy's cost is measured against.
//
// Usage:
//
//	peer upstream -addr 127.0.0.1:PORT
//	peer reverseproxy -addr 127.0.0.1:PORT -upstream http://127.0.0.1:PORT
//
// The upstream answers GET /auth_route and /noauth_route with the reference app's texts and 404 otherwise. The
// reverse proxy is httputil.ReverseProxy with Rewrite (SetURL and SetXForwarded) over the same transport as
// appidgate proxy (proxy.NewTransport), and nothing else: no login, no policy, no logs, no metrics. Both stop on
// SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/appidgate/appidgate/proxy"
)

// The reference app's answers, as appidgate demo gives them.
const (
	authRouteText   = "This route requires authentication and authorization - Powered by IBM Cloud App ID!"
	noauthRouteText = "This route is open to all!"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: peer upstream|reverseproxy -addr ADDR [-upstream URL]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	addr := fs.String("addr", "", "address to listen on, e.g. 127.0.0.1:8000")
	upstream := fs.String("upstream", "", "reverseproxy: the upstream's URL")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *addr == "" {
		return errors.New("-addr is required")
	}
	var h http.Handler
	switch args[0] {
	case "upstream":
		h = upstreamHandler()
	case "reverseproxy":
		u, err := url.Parse(*upstream)
		if err != nil || u.Host == "" {
			return fmt.Errorf("-upstream: an http URL with a host is required, got %q", *upstream)
		}
		h = &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(u)
				pr.SetXForwarded()
			},
			Transport: proxy.NewTransport(0, 0),
		}
	default:
		return fmt.Errorf("unknown mode %q: want upstream or reverseproxy", args[0])
	}
	return serve(*addr, h)
}

// upstreamHandler answers the reference app's two routes.
func upstreamHandler() http.Handler {
	mux := http.NewServeMux()
	text := func(s string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, s)
		}
	}
	mux.Handle("GET /auth_route", text(authRouteText))
	mux.Handle("GET /noauth_route", text(noauthRouteText))
	return mux
}

// serve runs h on addr until SIGTERM or SIGINT, with the timeouts of appidgate's own server.
func serve(addr string, h http.Handler) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errs := make(chan error, 1)
	go func() { errs <- srv.ListenAndServe() }()
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
