package testkit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Binary builds the module's command pkg (an import path, such as github.com/appidgate/appidgate/cmd/appidgate)
// with `go build` and flags (such as -ldflags), and returns the executable's path. The executable is kept between
// test binaries and runs, in a directory of the user's cache for this checkout and these flags: go build leaves an
// up-to-date executable as it is, so the packages whose tests run the real binary link it once, not once each.
// Builds of one checkout wait for each other on a lock file, so that no test runs a half-written executable.
func Binary(pkg string, flags ...string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256([]byte(strings.Join(append([]string{root}, flags...), "\x00")))
	dir := filepath.Join(cache, "appidgate-test", "bin", hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close() // closing releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking %s: %v", lock.Name(), err)
	}
	bin := filepath.Join(dir, filepath.Base(pkg))
	build := exec.Command("go", append(append([]string{"build"}, flags...), "-o", bin, pkg)...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s -o %s %s: %v\n%s", strings.Join(flags, " "), bin, pkg, err, out)
	}
	return bin, nil
}
