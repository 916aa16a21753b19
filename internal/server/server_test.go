package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/server"
)

// slowHandler blocks each request until release is closed, after telling the test it has started.
type slowHandler struct {
	started chan struct{}
	release chan struct{}
}

func (h slowHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.started <- struct{}{}
	<-h.release
	io.WriteString(w, "done")
}

// start runs server.Run in the background and returns its listener address and result channel.
func start(t *testing.T, h http.Handler, drain time.Duration) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, server.New(h), ln, drain, nil) }()
	return ln.Addr().String(), cancel, done
}

func TestRunDrainsInFlightRequest(t *testing.T) {
	h := slowHandler{started: make(chan struct{}, 1), release: make(chan struct{})}
	addr, cancel, done := start(t, h, 5*time.Second)

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-h.started
	cancel()

	// Once shutdown has begun the listener is closed: new connections are refused.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("new connections still accepted after cancel")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned %v before the in-flight request finished", err)
	default:
	}

	close(h.release)
	r := <-got
	if r.err != nil || r.status != http.StatusOK || r.body != "done" {
		t.Fatalf("in-flight request: status %d body %q err %v, want 200 \"done\"", r.status, r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run after clean drain = %v, want nil", err)
	}
}

func TestRunHonoursDrainBound(t *testing.T) {
	h := slowHandler{started: make(chan struct{}, 1), release: make(chan struct{})}
	t.Cleanup(func() { close(h.release) })
	addr, cancel, done := start(t, h, 100*time.Millisecond)

	go func() {
		resp, err := http.Get("http://" + addr + "/never")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-h.started
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run = nil, want an error naming the exceeded drain bound")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Run error = %v, want it to wrap context.DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return although the drain bound was 100ms")
	}
}

// TestRunDoesNotWaitForConnectionsWithoutRequest: browsers open spare connections that never carry a request;
// Shutdown would wait 5 s for each, so a short drain bound must still end cleanly.
func TestRunDoesNotWaitForConnectionsWithoutRequest(t *testing.T) {
	addr, cancel, done := start(t, http.NotFoundHandler(), 300*time.Millisecond)
	spare, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	time.Sleep(50 * time.Millisecond) // let the server accept it
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run with only a request-less connection open = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestRunReturnsListenerFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = server.Run(context.Background(), server.New(http.NotFoundHandler()), ln, time.Second, nil)
	if err == nil {
		t.Fatal("Run on a closed listener = nil, want an error")
	}
}

func TestNewSetsTimeouts(t *testing.T) {
	srv := server.New(http.NotFoundHandler())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("server.New left a zero limit: %+v", srv)
	}
}
