package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
)

// appidgateBinary is the path of the binary that TestMain builds once for the whole run; empty when the tests
// will skip (no browser, or -short).
var appidgateBinary string

// TestMain builds cmd/appidgate (testkit.Binary: once across the packages that run it), so that every test runs
// the real binary as its own process.
func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	_, haveBrowser := findChromium()
	if testing.Short() || (!haveBrowser && !onCI()) {
		return m.Run() // every test skips and says why
	}
	dir, err := os.MkdirTemp("", "appidgate-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, err := testkit.Binary(dir, "github.com/appidgate/appidgate/cmd/appidgate")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	appidgateBinary = bin
	defer chromium.stop()
	return m.Run()
}

// moduleRoot is the directory holding the module's go.mod, as `go env GOMOD` reports it.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not inside a module (got %q)", gomod)
	}
	return filepath.Dir(gomod), nil
}

// onCI reports whether the tests run in CI, where a missing browser is a failure and not a reason to skip.
func onCI() bool { return os.Getenv("CI") == "true" }
