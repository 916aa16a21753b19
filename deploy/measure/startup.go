package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Spec says what to start and what to wait for.
type Spec struct {
	Bin     string
	Args    []string
	Env     []string // added to the current environment, after which PORT and APPIDGATE_LISTEN_ADDR are set
	Path    string   // answered with 200 once the process is ready, such as /healthz
	Timeout time.Duration
}

// Result is one measured start-up.
type Result struct {
	Ready    time.Duration // from exec to the first 200 on Path
	ExitCode int           // after SIGTERM; 0 is a clean drain
}

// Startup starts spec.Bin on a free loopback port, polls Path until it answers 200, then sends SIGTERM and
// waits for the process to exit (killing it if it does not within 5 s). The process never outlives the call.
func Startup(ctx context.Context, spec Spec) (Result, error) {
	port, err := freePort()
	if err != nil {
		return Result{}, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(spec.Bin, spec.Args...)
	// No shutdown delay unless spec.Env sets one: no load balancer routes here, and every run would wait for it.
	cmd.Env = append(append(append(os.Environ(), "APPIDGATE_SHUTDOWN_DELAY=0"), spec.Env...),
		"PORT="+strconv.Itoa(port), "APPIDGATE_LISTEN_ADDR="+addr)
	var output syncBuffer
	cmd.Stdout, cmd.Stderr = &output, &output

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Result{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			<-exited
		}
	}()

	client := &http.Client{Timeout: 500 * time.Millisecond}
	url := "http://" + addr + spec.Path
	deadline := time.NewTimer(spec.Timeout)
	defer deadline.Stop()
	var ready time.Duration
	for ready == 0 {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = time.Since(start)
				break
			}
		}
		select {
		case err := <-exited:
			stopped = true
			return Result{}, fmt.Errorf("%s exited before %s answered 200 (%v); output:\n%s", spec.Bin, spec.Path, err, output.tail())
		case <-deadline.C:
			return Result{}, fmt.Errorf("%s did not answer 200 on %s within %s; output:\n%s", spec.Bin, spec.Path, spec.Timeout, output.tail())
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	var waitErr error
	select {
	case waitErr = <-exited:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		waitErr = <-exited
	}
	stopped = true
	code := 0
	var exitErr *exec.ExitError
	if errors.As(waitErr, &exitErr) {
		code = exitErr.ExitCode()
	} else if waitErr != nil {
		return Result{}, waitErr
	}
	return Result{Ready: ready, ExitCode: code}, nil
}

// freePort asks the kernel for a free loopback port. Another process could take it before the measured one
// binds it; on loopback in a test run that is rare, and the run then fails loudly rather than mismeasuring.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer keeps the measured process's output (bounded) for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const maxOutput = 64 << 10

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxOutput - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *syncBuffer) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}
