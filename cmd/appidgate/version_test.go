package main

import (
	"context"
	debugbuildinfo "debug/buildinfo"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
)

var versionLine = regexp.MustCompile(`^appidgate \S+ \(commit (?:[0-9a-f]{7}(?:-dirty)?|unknown), go\d\.\d+\S*, \w+/\w+\)\n$`)

// TestVersionCommand checks each spelling of the version command prints the one version line on stdout.
func TestVersionCommand(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"version", "--version", "-version"} {
		t.Run(arg, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(context.Background(), []string{arg}, testEnv(nil, &stdout, &stderr))
			if code != 0 || !versionLine.MatchString(stdout.String()) || stderr.Len() != 0 {
				t.Fatalf("appidgate %s: exit %d, stdout %q, stderr %q; want 0 and one version line", arg, code,
					stdout.String(), stderr.String())
			}
		})
	}
}

// TestVersionOfBuiltBinary builds the command as the Dockerfile does, with the version injected, and checks that
// the binary reports that version and the commit of this checkout.
func TestVersionOfBuiltBinary(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool in PATH")
	}
	bin, err := testkit.Binary(t.TempDir(), "github.com/appidgate/appidgate/cmd/appidgate", "-buildvcs=auto", "-ldflags",
		"-X github.com/appidgate/appidgate/internal/buildinfo.version=v0.14.0-test")
	if err != nil {
		t.Fatal(err)
	}
	// What go build recorded: the commit in a git clone (not in a linked worktree, whose .git is a file, nor
	// under -buildvcs=false).
	recorded, err := debugbuildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	commit := "unknown"
	for _, s := range recorded.Settings {
		if s.Key == "vcs.revision" {
			commit = s.Value[:7]
			if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil && strings.TrimSpace(string(head)) != s.Value {
				t.Errorf("go build recorded commit %s, git says HEAD is %s", s.Value, head)
			}
		}
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("appidgate version: %v\n%s", err, out)
	}
	want := "appidgate v0.14.0-test (commit " + commit
	if !strings.HasPrefix(string(out), want) || !versionLine.Match(out) {
		t.Fatalf("appidgate version printed %q, want it to start with %q", out, want)
	}
}
