package supervise

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the supervised app: with SUPERVISE_TEST_APP set, TestMain runs that app instead.
func TestMain(m *testing.M) {
	if mode := os.Getenv("SUPERVISE_TEST_APP"); mode != "" {
		os.Exit(runTestApp(mode, os.Getenv("SUPERVISE_TEST_ADDR")))
	}
	os.Exit(m.Run())
}

// runTestApp is the child: "serve" listens and exits 0 on SIGTERM; "stubborn" listens and ignores SIGTERM;
// "fail" exits 3 without listening.
func runTestApp(mode, addr string) int {
	if mode == "fail" {
		fmt.Fprintln(os.Stderr, "the app failed")
		return 3
	}
	terms := make(chan os.Signal, 1)
	signal.Notify(terms, syscall.SIGTERM)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return 2
	}
	defer ln.Close()
	fmt.Println("listening")
	for {
		<-terms
		if mode != "stubborn" {
			fmt.Println("terminated")
			return 0
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startTestApp(t *testing.T, mode, addr string, out *strings.Builder) *Child {
	t.Helper()
	env := append(os.Environ(), "SUPERVISE_TEST_APP="+mode, "SUPERVISE_TEST_ADDR="+addr)
	c, err := Start([]string{os.Args[0], "-test.run=^$"}, env, out, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(time.Second) })
	return c
}

func TestAppStartsListensAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	var out strings.Builder
	c := startTestApp(t, "serve", addr, &out)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx, addr); err != nil {
		t.Fatal(err)
	}
	if c.ExitCode() != -1 {
		t.Fatalf("exit code %d while running, want -1", c.ExitCode())
	}
	c.Stop(5 * time.Second)
	if c.ExitCode() != 0 || !strings.Contains(out.String(), "terminated") {
		t.Errorf("after Stop: exit %d, output %q; want 0 after the app saw SIGTERM", c.ExitCode(), out.String())
	}
}

func TestAppThatIgnoresSIGTERMIsKilledAfterTheGrace(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	var out strings.Builder
	c := startTestApp(t, "stubborn", addr, &out)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx, addr); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.Stop(200 * time.Millisecond)
	if got := c.ExitCode(); got != 128+int(syscall.SIGKILL) {
		t.Errorf("exit %d, want %d (killed)", got, 128+int(syscall.SIGKILL))
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Stop took %s with a 200ms grace", took)
	}
}

func TestAppThatExitsBeforeListeningIsReported(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	var out strings.Builder
	c := startTestApp(t, "fail", addr, &out)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := c.WaitReady(ctx, addr)
	if err == nil || !strings.Contains(err.Error(), "exited with status 3 before it listened") {
		t.Errorf("WaitReady: %v, want the exit status named", err)
	}
	<-c.Done()
	if c.ExitCode() != 3 {
		t.Errorf("exit code %d, want 3", c.ExitCode())
	}
}

func TestWaitReadyGivesUpWithTheContext(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	var out strings.Builder
	c := startTestApp(t, "serve", freeAddr(t), &out) // listens elsewhere, and stops at once when the test ends
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := c.WaitReady(ctx, addr); err == nil || !strings.Contains(err.Error(), "did not listen") {
		t.Errorf("WaitReady: %v, want a time-out naming the address", err)
	}
}

func TestStartWithoutACommand(t *testing.T) {
	t.Parallel()
	if _, err := Start(nil, nil, nil, nil); err == nil {
		t.Error("Start(nil) succeeded")
	}
	if _, err := Start([]string{"/nonexistent/app"}, nil, nil, nil); err == nil ||
		!strings.Contains(err.Error(), "/nonexistent/app") {
		t.Errorf("Start of a missing program: %v, want an error naming it", err)
	}
}
