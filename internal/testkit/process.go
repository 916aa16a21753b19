package testkit

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a loopback port nobody listened on a moment ago, for a process a test starts.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// CleanEnv returns env without the settings that would point appidgate somewhere other than where a test points
// it (App ID or another provider, keys, Redis, another port): a test that starts the binary then runs on exactly
// what it sets, whatever the developer's shell holds.
func CleanEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "APPID_"), strings.HasPrefix(name, "APPIDGATE_"),
			name == "SESSION_SECRET_KEY", name == "IBM_CLOUD_APIKEY", name == "IAM_TOKEN_URL", name == "PORT":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Terminate sends cmd SIGTERM and waits for exited (where the caller's goroutine sends cmd.Wait's result); past
// bound it kills the process. An exit status other than 0, or a missed bound, is the error.
func Terminate(cmd *exec.Cmd, exited <-chan error, bound time.Duration) error {
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("sending SIGTERM: %v", err)
	}
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("exit after SIGTERM: got %v, want status 0", err)
		}
		return nil
	case <-time.After(bound):
		cmd.Process.Kill()
		<-exited
		return errors.New("did not exit within " + bound.String() + " of SIGTERM; killed")
	}
}
