package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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
	go func() { done <- server.Run(ctx, server.New(h), ln, server.Shutdown{Drain: drain}, nil) }()
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
	err = server.Run(context.Background(), server.New(http.NotFoundHandler()), ln, server.Shutdown{Drain: time.Second}, nil)
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

// loadResult counts what keep-alive clients saw while a server stopped under them.
type loadResult struct {
	ok, closing int // answered requests; of them, answered with Connection: close
	failed      []error
}

// load runs workers clients, each on its own kept-alive connection, sending POSTs (which Go's client never
// retries, so a reset shows) to addr for as long as routed holds, as a load balancer sends requests to an
// instance until it notices the instance is going. started is closed once every worker has had an answer.
func load(addr string, workers int, routed *atomic.Bool, started chan<- struct{}) loadResult {
	results := make(chan loadResult, workers)
	var first sync.WaitGroup
	first.Add(workers)
	go func() { first.Wait(); close(started) }()
	for range workers {
		go func() {
			var r loadResult
			defer func() { results <- r }()
			tr := &http.Transport{MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			answered := false
			defer func() {
				if !answered {
					first.Done()
				}
			}()
			for routed.Load() {
				resp, err := client.Post("http://"+addr+"/work", "text/plain", strings.NewReader("payload"))
				if err != nil {
					r.failed = append(r.failed, err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(body) != "done" {
					r.failed = append(r.failed, fmt.Errorf("body %q: %v", body, err))
					return
				}
				r.ok++
				if resp.Close {
					r.closing++
				}
				if !answered {
					answered = true
					first.Done()
				}
			}
		}()
	}
	var total loadResult
	for range workers {
		r := <-results
		total.ok += r.ok
		total.closing += r.closing
		total.failed = append(total.failed, r.failed...)
	}
	return total
}

// TestRunStopsUnderLoadWithoutResets stops a server under load from keep-alive clients, many times over (the
// reset it guards against is a race between closing an idle kept-alive connection and the client's next
// request on it): the clients go on sending for a third of the delay after the stop, as a load balancer does
// until it notices, and every request is answered, those after the stop with Connection: close.
func TestRunStopsUnderLoadWithoutResets(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 20 stops under load, repeated to catch a race, take several seconds")
	}
	const (
		repetitions = 20
		workers     = 16
		delay       = 300 * time.Millisecond
	)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "done")
	})
	// The repetitions run four at a time, each with its own listener and server: the drain is mostly waiting, and
	// stops that overlap only add to the chance of catching a race.
	var (
		mu                          sync.Mutex
		requests, closing, failures int
		wg                          sync.WaitGroup
		slots                       = make(chan struct{}, 4)
	)
	for rep := range repetitions {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Error(err)
				return
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- server.Run(ctx, server.New(handler), ln, server.Shutdown{Delay: delay, Drain: 5 * time.Second}, nil)
			}()
			var routed atomic.Bool
			routed.Store(true)
			started := make(chan struct{})
			loaded := make(chan loadResult, 1)
			go func() { loaded <- load(ln.Addr().String(), workers, &routed, started) }()
			<-started
			time.Sleep(time.Duration(rep%4) * 10 * time.Millisecond) // vary where the stop falls
			cancel()
			time.Sleep(delay / 3)
			routed.Store(false)
			r := <-loaded
			if err := <-done; err != nil {
				t.Errorf("repetition %d: Run = %v, want a clean drain", rep, err)
			}
			mu.Lock()
			requests += r.ok
			closing += r.closing
			failures += len(r.failed)
			mu.Unlock()
			for i, err := range r.failed {
				if i < 3 {
					t.Errorf("repetition %d: a request failed: %v", rep, err)
				}
			}
			if r.closing == 0 {
				t.Errorf("repetition %d: no answer carried Connection: close during the delay", rep)
			}
		})
	}
	wg.Wait()
	t.Logf("%d repetitions, %d keep-alive clients each: %d requests answered (%d with Connection: close), %d failed",
		repetitions, workers, requests, closing, failures)
}

// TestRunSkipsTheDelayWhenInterrupted: a person's Ctrl-C stops the server at once, while SIGTERM (any other cause)
// keeps serving for the delay, which a platform's load balancer needs and a terminal does not.
func TestRunSkipsTheDelayWhenInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cause       error
		delay       time.Duration
		wantServing bool // still accepting right after the context ends
	}{
		// A minute's delay: should Ctrl-C wait it out, the test fails at its 10 s bound.
		{"Ctrl-C", server.ErrInterrupted, time.Minute, false},
		// A second is ample for one loopback request during the delay.
		{"SIGTERM", errors.New("appidgate: received terminated"), time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancelCause(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- server.Run(ctx, server.New(http.NotFoundHandler()), ln, server.Shutdown{Delay: tc.delay}, nil)
			}()
			cancel(tc.cause)
			if tc.wantServing {
				// Within the delay the server still answers, with Connection: close.
				resp, err := http.Get("http://" + ln.Addr().String() + "/")
				if err != nil {
					t.Fatalf("during the delay: %v", err)
				}
				resp.Body.Close()
				if !resp.Close {
					t.Error("an answer during the delay keeps its connection open")
				}
				select {
				case <-done:
					t.Fatal("Run returned before its delay was over")
				default:
				}
				if err := <-done; err != nil {
					t.Fatalf("Run = %v", err)
				}
				return
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run = %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after Ctrl-C")
			}
		})
	}
}
