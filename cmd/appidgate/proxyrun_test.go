package main

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
)

// proxyRun is an `appidgate proxy` that startProxy runs in-process for the rest of a test.
type proxyRun struct {
	base           string          // the origin its banner names, e.g. http://localhost:43121
	stdout, stderr *testkit.Buffer // what it printed, and its log
}

// startProxy runs `appidgate proxy args` with exactly the variables vars (PORT=0 unless vars sets it), changed by
// configure when given (a test's span exporter, say), and waits for its banner. The proxy stops when the test
// ends; its log is shown when the test failed.
func startProxy(t *testing.T, args []string, vars map[string]string, configure ...func(*env)) *proxyRun {
	t.Helper()
	vars = maps.Clone(vars)
	if vars == nil {
		vars = map[string]string{}
	}
	if _, ok := vars["PORT"]; !ok {
		vars["PORT"] = "0"
	}
	run := &proxyRun{stdout: &testkit.Buffer{}, stderr: &testkit.Buffer{}}
	e := testEnv(vars, run.stdout, run.stderr)
	for _, c := range configure {
		c(&e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- runProxy(ctx, args, e) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the proxy did not stop within 30 s")
		}
		if t.Failed() {
			t.Logf("the proxy's log:\n%s", run.stderr.String())
		}
	})
	if !run.stdout.Wait(10*time.Second, openLine.MatchString) {
		t.Fatalf("the proxy printed no address; stderr:\n%s", run.stderr.String())
	}
	run.base = openLine.FindStringSubmatch(run.stdout.String())[1]
	return run
}
