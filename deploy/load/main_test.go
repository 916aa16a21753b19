package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
)

// TestRunEndToEnd runs the whole command briefly: the real binary, provider, demo servers (and Redis when
// installed), logins and load, and checks the table and that no process it started outlives it, after a
// complete run and after one cancelled in the middle.
func TestRunEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to find leftover child processes")
	}
	bin, err := testkit.Binary(t.TempDir(), "github.com/appidgate/appidgate/cmd/appidgate")
	if err != nil {
		t.Fatal(err)
	}
	peer, err := testkit.Binary(t.TempDir(), "github.com/appidgate/appidgate/deploy/load/peer")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("complete run", func(t *testing.T) {
		var out, progress bytes.Buffer
		err := run(context.Background(), []string{"-bin", bin, "-peer", peer, "-c", "4", "-d", "100ms", "-rounds", "1", "-warmup", "0", "-md"}, &out, &progress)
		if err != nil {
			t.Fatalf("run: %v\nprogress:\n%s", err, progress.String())
		}
		for _, want := range []string{
			"| cookie sessions | open /noauth_route |", "| cookie sessions | protected /auth_route |",
			"| cookie sessions | bearer /api/auth_route |", "| Redis sessions | protected /auth_route |",
			"| cookie + introspection | protected /auth_route |", "-c 4 -d 100ms -rounds 1",
			"| proxy (cookie sessions) | upstream alone /auth_route |",
			"| proxy (cookie sessions) | httputil.ReverseProxy /auth_route |",
			"| proxy (cookie sessions) | proxy, public /noauth_route |",
			"| proxy (cookie sessions) | proxy, session /auth_route |",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("report lacks %q:\n%s", want, out.String())
			}
		}
		if !strings.Contains(out.String(), "| 1.00 |") {
			t.Errorf("no base route compared with itself:\n%s", out.String())
		}
		assertNoChildren(t)
	})

	t.Run("cancelled run", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		var out, progress bytes.Buffer
		err := run(ctx, []string{"-bin", bin, "-peer", peer, "-c", "2", "-d", "10s", "-warmup", "0"}, &out, &progress)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("cancelled run returned %v, want the context's error\nprogress:\n%s", err, progress.String())
		}
		assertNoChildren(t)
	})
}

// assertNoChildren fails when a child process of the test is still alive or unreaped.
func assertNoChildren(t *testing.T) {
	t.Helper()
	self := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == self {
			t.Errorf("a started process survived the run: %s", strings.TrimSpace(s[:strings.LastIndexByte(s, ')')+1]))
		}
	}
}
