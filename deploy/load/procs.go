package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// startTimeout bounds how long a started process may take to become ready.
const startTimeout = 15 * time.Second

// stopTimeout is how long a process gets to exit after SIGTERM before it is killed.
const stopTimeout = 5 * time.Second

// procs starts the processes a measurement needs and stops every one of them: each stop is idempotent, and
// stopAll, deferred by the caller, ends whatever is still running.
type procs struct {
	started []*proc
}

// proc is one started process with the start of its output, kept for error messages.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *headBuffer
	exited chan struct{} // closed once Wait returned
	err    error         // Wait's error, set before exited is closed
	once   sync.Once
}

// start runs bin with args and exactly env as its environment (nothing is inherited, so settings left in the
// caller's shell cannot change what is measured).
func (ps *procs) start(name, bin string, args, env []string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{}, env...) // never nil, which would mean the caller's environment
	p := &proc{name: name, cmd: cmd, out: &headBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, bin, err)
	}
	ps.started = append(ps.started, p)
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stopAll stops every started process, in reverse order of start.
func (ps *procs) stopAll() error {
	var err error
	for i := len(ps.started) - 1; i >= 0; i-- {
		err = errors.Join(err, ps.started[i].stop())
	}
	return err
}

// stop sends SIGTERM, waits up to stopTimeout, then kills. It reports a process that had to be killed; an exit
// status after SIGTERM is not an error of the measurement.
func (p *proc) stop() error {
	var err error
	p.once.Do(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
			p.cmd.Process.Kill()
			<-p.exited
			err = fmt.Errorf("%s did not exit within %s of SIGTERM and was killed", p.name, stopTimeout)
		}
	})
	return err
}

// failure describes p's unexpected end or unreadiness, with the start of its output.
func (p *proc) failure(what string) error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v) %s; output:\n%s", p.name, p.err, what, p.out.String())
	default:
		return fmt.Errorf("%s %s; output:\n%s", p.name, what, p.out.String())
	}
}

// waitFor polls ready every 10 ms until it returns true, the process exits, startTimeout passes or ctx ends.
func (p *proc) waitFor(ctx context.Context, what string, ready func() bool) error {
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !ready() {
		select {
		case <-p.exited:
			return p.failure("before " + what)
		case <-deadline.C:
			return p.failure(fmt.Sprintf("did not get to %s within %s", what, startTimeout))
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// waitHTTP waits until url answers 200.
func (p *proc) waitHTTP(ctx context.Context, url string) error {
	client := &http.Client{Timeout: time.Second}
	return p.waitFor(ctx, "answering 200 on "+url, func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// waitRedis waits until the Redis server at addr answers PING.
func (p *proc) waitRedis(ctx context.Context, addr string) error {
	return p.waitFor(ctx, "answering PING on "+addr, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return false
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		return err == nil && strings.HasPrefix(line, "+PONG")
	})
}

// freeAddr returns a loopback address whose port was free a moment ago. Another process could take it before
// the started one binds it; that is rare on loopback, and the start then fails loudly rather than mismeasuring.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free loopback port: %w", err)
	}
	defer ln.Close()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)), nil
}

// headBuffer keeps the first maxOutput bytes written to it and drops the rest, so that a server logging every
// request cannot grow it without bound. Start-up lines and start-up errors come first.
type headBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const maxOutput = 64 << 10

func (b *headBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxOutput - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *headBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
