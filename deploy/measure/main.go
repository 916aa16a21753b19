// Command measure reports what users feel of an appidgate deployment on scale-from-zero: the size of the
// static binary (the bulk of the image) and the time from process start to the first 200 from /healthz,
// as the median of several runs. It starts the binary itself and stops every process it started.
//
// Usage:
//
//	go run ./deploy/measure [-build] [-bin PATH] [-runs 20] [-env K=V ...] [-- ARGS...]
//
// With -build it first compiles ./cmd/appidgate as the Dockerfile does (CGO_ENABLED=0, -trimpath,
// -ldflags "-s -w"). Each run listens on a fresh loopback port passed as PORT and APPIDGATE_LISTEN_ADDR.
// Example: go run ./deploy/measure -build -env APPIDGATE_LOG_LEVEL=error -- demo
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// envList collects repeated -env K=V flags.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(s string) error {
	if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
		return fmt.Errorf("want K=V, got %q", s)
	}
	*e = append(*e, s)
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	bin := fs.String("bin", "", "binary to measure (default: the one -build produces)")
	build := fs.Bool("build", false, "build ./cmd/appidgate statically first, as the Dockerfile does")
	runs := fs.Int("runs", 20, "number of start-ups to measure")
	path := fs.String("path", "/healthz", "path that must answer 200")
	timeout := fs.Duration("timeout", 10*time.Second, "give up on one start-up after this long")
	var env envList
	fs.Var(&env, "env", "extra environment variable K=V for the measured process (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runs < 1 {
		return fmt.Errorf("-runs must be at least 1, got %d", *runs)
	}
	if *build {
		dir, err := os.MkdirTemp("", "appidgate-measure-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		built := filepath.Join(dir, "appidgate")
		if err := buildStatic(ctx, built); err != nil {
			return err
		}
		if *bin == "" {
			*bin = built
		}
	}
	if *bin == "" {
		return errors.New("give -bin PATH or -build")
	}
	st, err := os.Stat(*bin)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "binary: %s\nbinary size: %d bytes (%.1f MiB)\n", *bin, st.Size(), float64(st.Size())/(1<<20))
	fmt.Fprintf(out, "image size estimate: binary + distroless/static-debian12 base (about 2 MB), no Docker engine used\n")

	spec := Spec{Bin: *bin, Args: fs.Args(), Env: env, Path: *path, Timeout: *timeout}
	var times []time.Duration
	for i := range *runs {
		r, err := Startup(ctx, spec)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		if r.ExitCode != 0 {
			fmt.Fprintf(out, "run %d: exit status %d after SIGTERM (want 0)\n", i+1, r.ExitCode)
		}
		times = append(times, r.Ready)
	}
	slices.Sort(times)
	fmt.Fprintf(out, "start to first %s 200 over %d runs: median %s, min %s, max %s\n", *path, len(times),
		median(times).Round(10*time.Microsecond), times[0].Round(10*time.Microsecond), times[len(times)-1].Round(10*time.Microsecond))
	return nil
}

// buildStatic compiles ./cmd/appidgate to dst with the Dockerfile's flags.
func buildStatic(ctx context.Context, dst string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", dst, "./cmd/appidgate")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building ./cmd/appidgate (run from the repository root): %w", err)
	}
	return nil
}

// median of sorted durations.
func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
