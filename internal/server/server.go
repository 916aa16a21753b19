// Package server runs an HTTP server with production timeouts and a bounded graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Timeouts that protect the process from slow or idle clients. The write timeout is generous because the
// login callback makes several provider calls; each of those has its own, shorter timeout.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
	MaxHeaderBytes    = 64 << 10
)

// DefaultDrain is the shutdown bound used when the operator sets none. Knative waits 30 s by default between
// SIGTERM and SIGKILL, so the delay and the drain together must finish well inside that.
const DefaultDrain = 20 * time.Second

// DefaultDelay is how long the server keeps accepting and serving after SIGTERM when the operator sets no delay:
// long enough for a load balancer or the platform's routing to stop sending new connections (Kubernetes and
// Knative take a few seconds to notice a terminating instance), short enough that the delay and DefaultDrain
// stay well inside Knative's 30 s.
const DefaultDelay = 3 * time.Second

// ErrInterrupted is the cause a program gives its context when a person stopped it (Ctrl-C, SIGINT): nobody
// routes traffic to a terminal's server, so Run skips Shutdown.Delay and drains at once.
var ErrInterrupted = errors.New("server: interrupted")

// Shutdown says how Run stops once its context ends.
type Shutdown struct {
	// Delay is how long the server still accepts connections and serves requests after the context ends,
	// answering every response with "Connection: close" so that each kept-alive connection closes cleanly after
	// its next response, before it closes the listener. Zero means no delay.
	Delay time.Duration
	// Drain bounds the wait for in-flight requests once the listener is closed. Zero or negative means
	// DefaultDrain.
	Drain time.Duration
}

// New returns an http.Server for handler with the package's timeouts and header limit.
func New(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// NewStreaming returns an http.Server for a handler that streams request and response bodies for as long as
// they last (a reverse proxy: uploads, server-sent events, WebSockets): headers are still bounded in size and
// time and idle connections still close, but no deadline cuts a body short. The handler bounds what it waits
// for (the proxy's upstream timeouts); in front of it, Code Engine ends requests after 10 minutes at most.
func NewStreaming(handler http.Handler) *http.Server {
	srv := New(handler)
	srv.ReadTimeout, srv.WriteTimeout = 0, 0
	return srv
}

// Run serves srv on ln until ctx is cancelled (the command cancels it on SIGTERM or SIGINT). It then keeps
// serving for stop.Delay (unless ctx's cause is ErrInterrupted) with "Connection: close" on every response, so that clients finish their requests on
// connections that close cleanly instead of being reset, then stops accepting connections and waits at most
// stop.Drain for in-flight requests to finish. It returns nil after a clean drain, an error when serving failed
// or when the drain bound was exceeded (the remaining connections are then closed). log may be nil.
func Run(ctx context.Context, srv *http.Server, ln net.Listener, stop Shutdown, log *slog.Logger) error {
	drain := stop.Drain
	if drain <= 0 {
		drain = DefaultDrain
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conns := trackConns(srv)
	var closing atomic.Bool
	srv.Handler = closeWhen(&closing, srv.Handler)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Debug("server listening", "addr", ln.Addr().String())

	select {
	case err := <-served:
		// Serve only returns early on a listener failure; ErrServerClosed would mean someone else shut it down.
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("server: serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	closing.Store(true)
	if stop.Delay > 0 && !errors.Is(context.Cause(ctx), ErrInterrupted) {
		log.Info("server stopping: still serving, with Connection: close, before closing the listener",
			"delay", stop.Delay.String())
		select {
		case err := <-served:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("server: serving on %s: %w", ln.Addr(), err)
		case <-time.After(stop.Delay):
		}
	}
	log.Info("server shutting down", "drain", drain.String())
	start := time.Now()
	// The parent ctx is already cancelled, so the drain bound gets a fresh context of its own.
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	if err := srv.Shutdown(drainCtx); err != nil {
		if conns.active() == 0 {
			// Only connections that carry no request are left: browsers open spare connections ahead of need,
			// and Shutdown waits up to 5 s for such a new connection to send something. Nothing is lost by
			// closing them.
			closeErr := srv.Close()
			<-served
			log.Info("server stopped, closing connections without a request", "drained_in", time.Since(start).String())
			return closeErr
		}
		closeErr := srv.Close()
		log.Error("server drain bound exceeded, connections closed", "drain", drain.String())
		return errors.Join(fmt.Errorf("server: in-flight requests still running after drain bound %s: %w", drain, err), closeErr)
	}
	<-served
	log.Info("server stopped", "drained_in", time.Since(start).String())
	return nil
}

// closeWhen returns next, answering every response with "Connection: close" once closing is true: the server
// then closes each connection after writing its response, and the client opens a new one for its next request.
func closeWhen(closing *atomic.Bool, next http.Handler) http.Handler {
	if next == nil {
		next = http.DefaultServeMux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if closing.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// connTracker counts the server's connections that are handling a request, so that a shutdown can tell an
// in-flight request from a connection that never sent one.
type connTracker struct {
	mu    sync.Mutex
	state map[net.Conn]http.ConnState
}

// trackConns installs a connTracker on srv, keeping any ConnState hook srv already has.
func trackConns(srv *http.Server) *connTracker {
	t := &connTracker{state: make(map[net.Conn]http.ConnState)}
	next := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		t.mu.Lock()
		if s == http.StateClosed || s == http.StateHijacked {
			delete(t.state, c)
		} else {
			t.state[c] = s
		}
		t.mu.Unlock()
		if next != nil {
			next(c, s)
		}
	}
	return t
}

// active returns how many connections are handling a request.
func (t *connTracker) active() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, s := range t.state {
		if s == http.StateActive {
			n++
		}
	}
	return n
}
