package deploy

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid/localappidtest"
)

// The image's limits: what Code Engine's smallest instance gives it and what the Dockerfile promises. The size
// bound was 25 MB until traces came: OpenTelemetry's OTLP/HTTP exporter links gRPC's generated service code with
// the protocol's message types (28.5 MB in all); it stays well below the tools people compare appidgate with.
const (
	maxImageBytes = 30 * 1000 * 1000 // 30 MB
	memoryLimit   = "256m"
	maxHealthz    = time.Second // from the container's start to the first 200 from /healthz
)

// The tags of the images these tests build; the stand-in bases carry the real names the Dockerfiles ask for.
const (
	imageTag      = "localhost/appidgate-test:image"
	flaskImageTag = "localhost/appidgate-test:flask"
	golangBase    = "docker.io/library/golang:1.26"
	distroless    = "gcr.io/distroless/static-debian12:nonroot"
	pythonBase    = "docker.io/library/python:3.12-slim"
	// fixtureLabel marks a stand-in base with what it was made from, so a changed Go toolchain or fixture
	// recipe makes it again instead of using the cached one.
	fixtureLabel   = "org.appidgate.test-fixture"
	fixtureVersion = "4"
)

// podman runs podman as these machines allow it: as root with runc and the cgroupfs manager, and with
// CONTAINERS_CONF naming a containers.conf that drops the default ulimits (which the sandbox refuses).
type podman struct {
	t    *testing.T
	conf string
}

// newPodman finds podman, or skips the test when it is missing outside CI; on CI (CI=true) it is a failure.
func newPodman(t *testing.T) *podman {
	t.Helper()
	if testing.Short() {
		t.Skip("builds container images; skipped with -short")
	}
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed: .ci/run installs podman, runc and busybox-static", tool)
			}
			t.Skipf("%s is not installed (apt-get install podman runc busybox-static)", tool)
		}
	}
	conf := filepath.Join(t.TempDir(), "containers.conf")
	if err := os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &podman{t: t, conf: conf}
}

// in returns p for the (sub)test t, so that its failures end t.
func (p *podman) in(t *testing.T) *podman { return &podman{t: t, conf: p.conf} }

// cmd returns the podman command for args, bounded by timeout.
func (p *podman) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, "podman", append([]string{"--runtime", "runc", "--cgroup-manager=cgroupfs"}, args...)...)
	c.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	c.WaitDelay = 5 * time.Second
	return c
}

// run runs podman with args and returns its standard output; a failure ends the test with podman's output.
func (p *podman) run(timeout time.Duration, args ...string) string {
	p.t.Helper()
	out, err := p.try(timeout, args...)
	if err != nil {
		p.t.Fatalf("podman %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// try is run returning the failure instead of ending the test; the error carries podman's standard error.
func (p *podman) try(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	c := p.cmd(ctx, args...)
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w\n%s%s", err, stdout.Bytes(), lastLines(stderr.String(), 30))
	}
	return stdout.String(), nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}

// standIn makes the image tag from the directory that fill populates, unless an image of that tag made from
// the same recipe (label) already exists: the stand-ins are kept between runs, so a warm machine skips them.
func (p *podman) standIn(tag, label string, changes []string, fill func(root string) error) {
	p.t.Helper()
	if got, err := p.try(time.Minute, "image", "inspect", "--format", "{{index .Labels \""+fixtureLabel+"\"}}", tag); err == nil &&
		strings.TrimSpace(got) == label {
		return
	}
	root := p.t.TempDir()
	if err := fill(root); err != nil {
		p.t.Fatalf("making the stand-in for %s: %v", tag, err)
	}
	args := []string{"import", "--change", "LABEL " + fixtureLabel + "=" + strconv.Quote(label)}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tarCmd := exec.CommandContext(ctx, "tar", "-C", root, "-c", ".")
	imp := p.cmd(ctx, append(args, "-", tag)...)
	var err error
	if imp.Stdin, err = tarCmd.StdoutPipe(); err != nil {
		p.t.Fatal(err)
	}
	var stderr bytes.Buffer
	imp.Stderr, tarCmd.Stderr = &stderr, &stderr
	if err := tarCmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	if out, err := imp.Output(); err != nil {
		p.t.Fatalf("podman import %s: %v\n%s%s", tag, err, out, stderr.String())
	}
	if err := tarCmd.Wait(); err != nil {
		p.t.Fatalf("tar of the stand-in for %s: %v\n%s", tag, err, stderr.String())
	}
}

// The stand-in base images below are test fixtures, not the real images: these machines cannot pull from
// Docker Hub or gcr.io, so each is made locally from what the real one holds and tagged with its real name, so
// that the Dockerfiles build unchanged with `podman build --pull=never`.

// golangStandIn stands in for golang:1.26: busybox as /bin/sh and this machine's own Go toolchain (its go
// binary is static), with GOPATH /go and root's home /root (where Go keeps its build cache) as in the real image.
func (p *podman) golangStandIn() {
	goroot, goVersion := goEnv(p.t, "GOROOT"), goEnv(p.t, "GOVERSION")
	p.standIn(golangBase, fixtureVersion+" "+goVersion,
		[]string{"ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"ENV GOPATH=/go", "WORKDIR /go"},
		func(root string) error {
			if err := busyboxShell(root); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(root, "usr/local"), 0o755); err != nil {
				return err
			}
			if err := makeDirs(root, "go/bin", "tmp", "root"); err != nil {
				return err
			}
			if err := writeFiles(root, map[string]string{"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
				"etc/group": "root:x:0:\n"}); err != nil {
				return err
			}
			return copyTree(goroot, filepath.Join(root, "usr/local/go"))
		})
}

// distrolessStandIn stands in for distroless/static-debian12:nonroot: CA certificates, zoneinfo, /tmp and a
// passwd and group with root, nobody and nonroot (65532), run as nonroot; no shell.
func (p *podman) distrolessStandIn() {
	p.standIn(distroless, fixtureVersion, []string{"USER 65532", "WORKDIR /home/nonroot"}, func(root string) error {
		files := map[string]string{
			"etc/passwd": "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
				"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
			"etc/group": "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n",
		}
		if err := writeFiles(root, files); err != nil {
			return err
		}
		if err := makeDirs(root, "tmp", "home/nonroot"); err != nil {
			return err
		}
		if err := copyTree("/etc/ssl/certs/ca-certificates.crt", filepath.Join(root, "etc/ssl/certs/ca-certificates.crt")); err != nil {
			return err
		}
		return copyTree("/usr/share/zoneinfo", filepath.Join(root, "usr/share/zoneinfo"))
	})
}

// pythonPackages are the Debian packages whose files make the Python stand-in: the interpreter and standard
// library, Flask with its dependencies, and pip (which finds Flask already installed and fetches nothing).
var pythonPackages = []string{
	"python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib", "python3-minimal", "python3.11", "python3",
	"python3-flask", "python3-werkzeug", "python3-jinja2", "python3-markupsafe", "python3-itsdangerous",
	"python3-click", "python3-pip", "python3-setuptools", "python3-pkg-resources", "python3-wheel",
	"python3-distutils", "python3-lib2to3",
}

// pythonStandIn stands in for python:3.12-slim: Debian's Python 3 with the files of pythonPackages as this
// machine has them installed, the shared libraries they load, and busybox as /bin/sh.
func (p *podman) pythonStandIn() {
	var files []string
	for _, pkg := range pythonPackages {
		out, err := exec.Command("dpkg", "-L", pkg).Output()
		if err != nil {
			p.t.Fatalf("dpkg -L %s: %v (the Python stand-in is made from Debian's installed packages: apt-get install python3-flask python3-pip)", pkg, err)
		}
		files = append(files, strings.Fields(string(out))...)
	}
	p.standIn(pythonBase, fixtureVersion+" "+strings.Join(pythonPackages, ","),
		[]string{"ENV PATH=/usr/local/bin:/usr/bin:/bin", "ENV LANG=C.UTF-8"},
		func(root string) error {
			// Debian 12's merged /usr: /bin, /sbin, /lib and /lib64 are links into /usr, and the libraries and
			// the loader ldd names under /lib and /lib64 land there.
			if err := makeDirs(root, "usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "tmp", "root", "etc"); err != nil {
				return err
			}
			for _, l := range []string{"bin", "sbin", "lib", "lib64"} {
				if err := os.Symlink("usr/"+l, filepath.Join(root, l)); err != nil {
					return err
				}
			}
			if err := busyboxShell(root); err != nil {
				return err
			}
			var elfs []string
			for _, f := range files {
				fi, err := os.Lstat(f)
				// The official image's Python is built from source, not Debian's: it has no EXTERNALLY-MANAGED
				// marker, so pip installs into it.
				if err != nil || fi.IsDir() || strings.HasPrefix(f, "/usr/share/doc") || strings.HasPrefix(f, "/usr/share/man") ||
					filepath.Base(f) == "EXTERNALLY-MANAGED" {
					continue
				}
				if err := copyTree(f, filepath.Join(root, f)); err != nil {
					return err
				}
				if fi.Mode().IsRegular() && (strings.HasSuffix(f, ".so") || strings.Contains(f, "/bin/")) {
					elfs = append(elfs, f)
				}
			}
			// The shared libraries the interpreter and its extension modules load, as ldd resolves them here.
			libs := map[string]bool{}
			re := regexp.MustCompile(`(?m)(?:=>\s*)?(/\S+\.so[.\d]*)\s+\(0x`)
			for _, f := range elfs {
				out, _ := exec.Command("ldd", f).Output() // scripts and static binaries are "not a dynamic executable"
				for _, m := range re.FindAllStringSubmatch(string(out), -1) {
					libs[m[1]] = true
				}
			}
			for lib := range libs {
				if err := copyTree(lib, filepath.Join(root, lib)); err != nil {
					return err
				}
				if real, err := filepath.EvalSymlinks(lib); err == nil && real != lib {
					if err := copyTree(real, filepath.Join(root, real)); err != nil {
						return err
					}
				}
			}
			return nil
		})
}

// busyboxShell installs Debian's static busybox as /bin/sh (the shell RUN lines need).
func busyboxShell(root string) error {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("busybox (busybox-static) is not installed: %w", err)
	}
	// Nothing else of the system is in the stand-ins: the shell must need no shared library.
	f, err := elf.Open(bb)
	if err != nil {
		return fmt.Errorf("reading %s: %w", bb, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked: install busybox-static", bb)
		}
	}
	if err := copyTree(bb, filepath.Join(root, "bin/busybox")); err != nil {
		return err
	}
	return os.Symlink("busybox", filepath.Join(root, "bin/sh"))
}

// copyTree copies src (a file, symbolic link or directory) to dst with cp -a, making dst's parent.
func copyTree(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("cp -a %s %s: %v: %s", src, dst, err, out)
	}
	return nil
}

// writeFiles writes each file (path relative to root: content).
func writeFiles(root string, files map[string]string) error {
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// makeDirs makes each directory under root; tmp is world-writable and sticky, as /tmp is.
func makeDirs(root string, dirs ...string) error {
	for _, d := range dirs {
		path := filepath.Join(root, d)
		if err := os.MkdirAll(path, 0o755); err != nil {
			return err
		}
		if d == "tmp" {
			if err := os.Chmod(path, os.ModePerm|os.ModeSticky); err != nil {
				return err
			}
		}
	}
	return nil
}

// goEnv returns `go env name`.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// buildImage builds the repository's Dockerfile, unchanged, as imageTag. The build stage's `go mod download`
// and `go build` use this machine's module cache (read-only) and a build cache kept between runs, mounted
// into the build's RUN steps, so a warm machine compiles only what changed.
func (p *podman) buildImage(root string) {
	p.t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		p.t.Fatal(err)
	}
	buildCache := filepath.Join(cache, "appidgate-image-test", "go-build")
	if err := os.MkdirAll(buildCache, 0o755); err != nil {
		p.t.Fatal(err)
	}
	p.run(10*time.Minute, "build", "--pull=never", "--network=host",
		"--volume", goEnv(p.t, "GOMODCACHE")+":/go/pkg/mod:ro",
		"--volume", buildCache+":/root/.cache/go-build",
		"--build-arg", "VERSION=image-test",
		"--tag", imageTag, "--file", filepath.Join(root, "Dockerfile"), root)
}

// container is one running container of the test, removed when the test ends.
type container struct {
	p  *podman
	id string
}

// start runs image detached on the host network with args (podman run options, then the image's arguments
// after image), and removes the container when the test ends.
func (p *podman) start(opts []string, image string, args ...string) *container {
	p.t.Helper()
	all := append(append(append([]string{"run", "-d", "--network=host"}, opts...), image), args...)
	id := strings.TrimSpace(p.run(time.Minute, all...))
	c := &container{p: p, id: id}
	p.t.Cleanup(func() {
		if p.t.Failed() {
			p.t.Logf("container %s logs:\n%s", image, lastLines(c.logs(), 40))
		}
		p.try(time.Minute, "rm", "-f", "-t", "0", id)
	})
	return c
}

// logs returns what the container wrote to its standard output and error.
func (c *container) logs() string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.p.cmd(ctx, "logs", c.id).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("podman logs %s: %v\n%s", c.id, err, out)
	}
	return string(out)
}

// inspect returns the container's field as podman inspect's Go template format renders it.
func (c *container) inspect(format string) string {
	return strings.TrimSpace(c.p.run(time.Minute, "inspect", "--format", format, c.id))
}

// waitHTTP polls url until it answers 200 and returns when it did, or fails the test after bound.
func waitHTTP(t *testing.T, url string, bound time.Duration) time.Time {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(bound)
	for {
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now()
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within %s (last: %v)", url, bound, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// signIn opens base+path as a browser would, follows the redirect to the local provider's login form, signs
// in as username (whose password is the same word, as for the demo users) and returns where it landed.
func signIn(t *testing.T, base, path, username string) (status int, landed *url.URL, body string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(req *http.Request) (int, *url.URL, string) {
		req.Header.Set("Accept", "text/html")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, resp.Request.URL, string(b)
	}
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	_, pageURL, page := get(req)
	login, err := localappidtest.LoginRequest(page, pageURL, username, username)
	if err != nil {
		t.Fatalf("GET %s%s: %v", base, path, err)
	}
	return get(login)
}

// stop sends SIGTERM with podman stop (killing only after 30 s, as Code Engine does) and returns the exit
// code and how long the container took to stop.
func (c *container) stop() (int, time.Duration) {
	start := time.Now()
	c.p.run(time.Minute, "stop", "--time", "30", c.id)
	took := time.Since(start)
	code, err := strconv.Atoi(c.inspect("{{.State.ExitCode}}"))
	if err != nil {
		c.p.t.Fatalf("exit code of %s: %v", c.id, err)
	}
	return code, took
}

// startedAt is when the container's process started.
func (c *container) startedAt() time.Time {
	at, err := time.Parse(time.RFC3339Nano, c.inspect("{{.State.StartedAt.Format \"2006-01-02T15:04:05.999999999Z07:00\"}}"))
	if err != nil {
		c.p.t.Fatalf("start time of %s: %v", c.id, err)
	}
	return at
}

// testDrainDelay is the containers' APPIDGATE_SHUTDOWN_DELAY: shorter than the image's 3 s, as no load balancer
// watches them here, but not zero, so that each stop still goes through the drain.
const testDrainDelay = "500ms"

// testImage builds the image once and checks it: its size and user, its start-up error, a container serving a
// sign-in read-only under the memory limit, and docs/code-engine.md's one-container recipe with the Flask
// example behind the proxy.
func testImage(t *testing.T) {
	p := newPodman(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	p.golangStandIn()
	p.distrolessStandIn()
	buildStart := time.Now()
	p.buildImage(root)
	t.Logf("built %s in %s", imageTag, time.Since(buildStart).Round(time.Second))

	t.Run("size and user", func(t *testing.T) {
		p := p.in(t)
		size, err := strconv.ParseInt(strings.TrimSpace(p.run(time.Minute, "image", "inspect", "--format", "{{.Size}}", imageTag)), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("image size: %.1f MB (%d bytes)", float64(size)/1e6, size)
		if size > maxImageBytes {
			t.Errorf("image is %d bytes, want at most %d", size, maxImageBytes)
		}
		user := strings.TrimSpace(p.run(time.Minute, "image", "inspect", "--format", "{{.Config.User}}", imageTag))
		if !regexp.MustCompile(`^[1-9][0-9]*(:[0-9]+)?$`).MatchString(user) {
			t.Errorf("image user is %q, want a numeric non-root uid (Kubernetes' runAsNonRoot can only check a number)", user)
		}
	})

	t.Run("missing App ID settings", func(t *testing.T) {
		p := p.in(t)
		// The image requires App ID: with none of its settings, the start-up error names each one.
		out, err := p.try(time.Minute, "run", "--rm", "--network=host", "--read-only", "--memory", memoryLimit,
			"--env", "PORT="+strconv.Itoa(testkit.FreePort(t)), imageTag)
		if err == nil {
			t.Fatalf("the image started with no App ID settings:\n%s", out)
		}
		for _, name := range []string{"APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "APPID_OAUTH_SERVER_URL"} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("start-up error does not name %s:\n%v", name, err)
			}
		}
	})

	t.Run("serves read-only and non-root under 256 MB, drains on SIGTERM", func(t *testing.T) {
		p := p.in(t)
		port, idpPort := testkit.FreePort(t), testkit.FreePort(t)
		base := "http://localhost:" + strconv.Itoa(port) // the demo's default redirect URI names localhost
		c := p.start([]string{"--read-only", "--memory", memoryLimit,
			"--env", "PORT=" + strconv.Itoa(port),
			"--env", "APPIDGATE_LOCAL_IDP=1",
			"--env", "APPIDGATE_IDP_ADDR=127.0.0.1:" + strconv.Itoa(idpPort),
			"--env", "APPIDGATE_SHUTDOWN_DELAY=" + testDrainDelay}, imageTag)
		up := waitHTTP(t, base+"/healthz", 30*time.Second)
		startup := up.Sub(c.startedAt())
		t.Logf("/healthz answered %s after the container started", startup.Round(time.Millisecond))
		if startup > maxHealthz {
			t.Errorf("/healthz answered %s after the start, want within %s", startup, maxHealthz)
		}
		if got := c.inspect("{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.Memory}}"); got != "true 268435456" {
			t.Errorf("container's read-only root and memory limit: %q, want \"true 268435456\"", got)
		}
		// podman top reads the running process's user from the host: the numeric user the image names.
		if top := p.run(time.Minute, "top", c.id, "huser"); !strings.Contains(top, "65532") {
			t.Errorf("the process does not run as uid 65532:\n%s", top)
		}

		status, landed, body := signIn(t, base, "/auth_route", "alice")
		if status != http.StatusOK || landed.Path != "/auth_route" || !strings.Contains(body, "App ID") {
			t.Errorf("signing in as alice ended at %s with %d: %.300s", landed, status, body)
		}

		code, took := c.stop()
		t.Logf("podman stop: exit %d after %s", code, took.Round(time.Millisecond))
		if code != 0 {
			t.Errorf("exit code after SIGTERM: %d, want 0", code)
		}
		logs := c.logs()
		if !strings.Contains(logs, `"server stopped"`) {
			t.Errorf("no drained stop in the logs:\n%s", lastLines(logs, 20))
		}
	})

	t.Run("one container with the Flask example", func(t *testing.T) {
		oneContainerFlask(p.in(t), root)
	})
}

// oneContainerDockerfile returns the Dockerfile of docs/code-engine.md's "One container" section, changed in
// two lines only: the appidgate binary comes from the image testImage built (the published module's @latest
// is not the code under test), and the app's port is free on this machine (the test shares its network).
func oneContainerDockerfile(t *testing.T, root string, appPort int) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(root, "docs", "code-engine.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## One container.*?```dockerfile\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/code-engine.md: no dockerfile block in the \"One container\" section")
	}
	df := string(m[1])
	install := "RUN CGO_ENABLED=0 go install github.com/appidgate/appidgate/cmd/appidgate@latest"
	if !strings.Contains(df, install) || !strings.Contains(df, "127.0.0.1:8000") {
		t.Fatalf("the docs' Dockerfile changed; update this test's two substitutions:\n%s", df)
	}
	df = strings.Replace(df, install, "COPY --from="+imageTag+" /appidgate /go/bin/appidgate", 1)
	return strings.Replace(df, "127.0.0.1:8000", "127.0.0.1:"+strconv.Itoa(appPort), 1)
}

// oneContainerFlask builds docs/code-engine.md's one-container image around examples/flask on the image TestImage
// built, signs in through it, and stops it.
func oneContainerFlask(p *podman, root string) {
	t := p.t
	p.pythonStandIn()
	port, appPort, idpPort := testkit.FreePort(t), testkit.FreePort(t), testkit.FreePort(t)
	buildDir := t.TempDir()
	app, err := os.ReadFile(filepath.Join(root, "examples", "flask", "app.py"))
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFiles(buildDir, map[string]string{
		"app.py":     string(app),
		"Dockerfile": oneContainerDockerfile(t, root, appPort),
	}); err != nil {
		t.Fatal(err)
	}
	p.run(5*time.Minute, "build", "--pull=never", "--network=host", "--tag", flaskImageTag, buildDir)

	base := "http://localhost:" + strconv.Itoa(port) // the proxy's default redirect URI names localhost
	c := p.start([]string{"--memory", memoryLimit,
		"--env", "PORT=" + strconv.Itoa(port),
		"--env", "APPIDGATE_LOCAL_IDP=1",
		"--env", "APPIDGATE_IDP_ADDR=127.0.0.1:" + strconv.Itoa(idpPort),
		"--env", "APPIDGATE_SHUTDOWN_DELAY=" + testDrainDelay}, flaskImageTag)
	up := waitHTTP(t, base+"/healthz", 30*time.Second)
	t.Logf("/healthz answered %s after the container started", up.Sub(c.startedAt()).Round(time.Millisecond))
	waitHTTP(t, base+"/noauth_route", 30*time.Second) // the app is up behind the proxy

	status, landed, body := signIn(t, base, "/auth_route", "alice")
	if status != http.StatusOK || landed.Path != "/auth_route" ||
		!strings.Contains(body, "This route requires authentication and authorization") {
		t.Errorf("signing in as alice through the proxy ended at %s with %d: %.300s", landed, status, body)
	}
	code, took := c.stop()
	t.Logf("podman stop: exit %d after %s", code, took.Round(time.Millisecond))
	if code != 0 {
		t.Errorf("exit code after SIGTERM: %d, want 0 (the proxy drains, then stops the app)", code)
	}
}
