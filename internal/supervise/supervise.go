// Package supervise runs the app that `appidgate proxy` fronts as its child, for Code Engine's one-container
// shape: it starts the app, waits until the app accepts connections, stops it with SIGTERM (then SIGKILL after
// a bound), and reports how it ended.
package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Child is a running app process.
type Child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's error, set before done closes
}

// Start runs argv[0] with the other arguments, the environment env (nil: this process's), and its output on
// stdout and stderr. The child gets a process group of its own, so that a terminal's Ctrl-C reaches it only
// through Stop, after the proxy drained; on Linux it also gets SIGTERM should this process die without Stop.
func Start(argv []string, env []string, stdout, stderr io.Writer) (*Child, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("supervise: no command to run")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = startAttrs()
	unlock := lockThread()
	err := cmd.Start()
	unlock()
	if err != nil {
		return nil, fmt.Errorf("supervise: starting %q: %w", argv[0], err)
	}
	c := &Child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// Done is closed when the child has exited.
func (c *Child) Done() <-chan struct{} { return c.done }

// Pid is the child's process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// ExitCode is the child's exit status once Done is closed: its code, or 128 plus the signal that ended it, as a
// shell reports it. It is -1 while the child runs.
func (c *Child) ExitCode() int {
	select {
	case <-c.done:
	default:
		return -1
	}
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return c.cmd.ProcessState.ExitCode()
}

// WaitReady waits until addr (host:port) accepts a TCP connection, polling every few milliseconds. It fails
// when the child exits first or ctx ends, saying which.
func (c *Child) WaitReady(ctx context.Context, addr string) error {
	var d net.Dialer
	for wait := 5 * time.Millisecond; ; wait = min(wait*2, 200*time.Millisecond) {
		dialCtx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := d.DialContext(dialCtx, "tcp", addr)
		cancel()
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("supervise: the app exited with status %d before it listened on %s", c.ExitCode(), addr)
		case <-ctx.Done():
			return fmt.Errorf("supervise: the app did not listen on %s in time: %w", addr, context.Cause(ctx))
		case <-time.After(wait):
		}
	}
}

// Stop sends SIGTERM to the child's process group and waits for it to exit, at most grace; past that it sends
// SIGKILL. It returns once the child has exited.
func (c *Child) Stop(grace time.Duration) {
	select {
	case <-c.done:
		return
	default:
	}
	c.signalGroup(syscall.SIGTERM)
	select {
	case <-c.done:
		return
	case <-time.After(grace):
	}
	c.signalGroup(syscall.SIGKILL)
	<-c.done
}

// signalGroup signals the child's process group, so that workers the app forked (gunicorn, uvicorn) stop too;
// when the group is gone it signals the child alone.
func (c *Child) signalGroup(sig syscall.Signal) {
	if err := syscall.Kill(-c.cmd.Process.Pid, sig); err != nil {
		c.cmd.Process.Signal(os.Signal(sig))
	}
}
