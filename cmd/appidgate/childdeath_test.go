package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
)

type fileText string

func (f fileText) String() string { b, _ := os.ReadFile(string(f)); return string(b) }

// TestChildDiesWithProxy: the app the proxy started never outlives it, listening unprotected: not when the
// proxy is told to stop by a signal it handles (SIGINT: Ctrl-C), nor when it is killed outright
// (SIGKILL, as the OOM killer does), which the kernel's parent-death signal covers.
func TestChildDiesWithProxy(t *testing.T) {
	t.Parallel()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no python3")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			appPort := testkit.FreePort(t)
			port := testkit.FreePort(t)
			cmd := exec.Command(os.Args[0], "proxy", "--upstream", fmt.Sprintf("http://127.0.0.1:%d", appPort), "--",
				py, "-m", "http.server", strconv.Itoa(appPort), "--bind", "127.0.0.1")
			cmd.Env = append(os.Environ(), childEnv+"=1", "APPIDGATE_LISTEN_ADDR=127.0.0.1:"+strconv.Itoa(port),
				"APPIDGATE_LOG_FORMAT=json")
			f, err := os.CreateTemp(t.TempDir(), "out")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cmd.Stdout, cmd.Stderr = f, f // a file, not a pipe: Wait must not wait for the child to close it
			out := fileText(f.Name())
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pidRE := regexp.MustCompile(`"msg":"appidgate proxy started".*"upstream_pid":(\d+)`)
			var childPid int
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if m := pidRE.FindStringSubmatch(out.String()); m != nil && listening(appPort) {
					childPid, _ = strconv.Atoi(m[1])
					break
				}
			}
			if childPid == 0 {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("the app did not start:\n%s", out.String())
			}
			t.Cleanup(func() { syscall.Kill(childPid, syscall.SIGKILL) })
			cmd.Process.Signal(sig)
			t.Logf("proxy ended: %v", cmd.Wait())
			for deadline := time.Now().Add(10 * time.Second); listening(appPort); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the proxy is gone, but its app (pid %d) still listens on 127.0.0.1:%d, unprotected",
						childPid, appPort)
				}
			}
		})
	}
}

// listening reports whether something accepts connections on the loopback port.
func listening(port int) bool {
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err == nil {
		c.Close()
	}
	return err == nil
}
