package testkit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Binary builds the module's command pkg (an import path, such as github.com/appidgate/appidgate/cmd/appidgate)
// with `go build` and flags (such as -ldflags), copies the executable into dir, and returns the copy's path.
//
// The build goes to a directory of the user's cache kept for this checkout and these flags, where go build
// leaves an up-to-date executable as it is: the packages whose tests run the real binary link it once, not once
// each. Builds of one checkout wait for each other on a lock file, and each caller runs its own copy, so a test
// never runs an executable that another test run is rewriting.
func Binary(dir, pkg string, flags ...string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for the test binaries (set HOME or XDG_CACHE_HOME): %v", err)
	}
	sum := sha256.Sum256([]byte(strings.Join(append([]string{root}, flags...), "\x00")))
	builds := filepath.Join(cache, "appidgate-test", "bin", hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(builds, 0o700); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(builds, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close() // closing releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking %s: %v", lock.Name(), err)
	}
	built := filepath.Join(builds, filepath.Base(pkg))
	build := exec.Command("go", append(append([]string{"build"}, flags...), "-o", built, pkg)...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s -o %s %s: %v\n%s", strings.Join(flags, " "), built, pkg, err, out)
	}
	bin := filepath.Join(dir, filepath.Base(pkg))
	if err := copyExecutable(built, bin); err != nil {
		return "", fmt.Errorf("copying %s: %v", built, err)
	}
	return bin, nil
}

// copyExecutable copies the executable src to dst.
func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o700)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
