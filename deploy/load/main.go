// Command load measures the request path of appidgate under load on loopback: requests per second and latency
// of the demo's open route, of its protected route with cookie sessions, with Redis sessions and with
// introspection (the reference app's design), and of its bearer route, each compared with the open route of the
// same server; and of `appidgate proxy` with a valid session, compared with a plain httputil.ReverseProxy in
// front of the same upstream, and the upstream alone. docs/PERFORMANCE.md shows a run and how to read it.
//
// Usage:
//
//	go run ./deploy/load [-c 32] [-d 5s] [-rounds 3] [-warmup 1s] [-redis redis-server] [-log-level error] [-md]
//	                     [-bin PATH] [-peer PATH] [-wrk wrk] [-servers proxy,cookie]
//
// It builds ./cmd/appidgate (unless -bin names a binary) and ./deploy/load/peer, starts `appidgate idp` on a
// free loopback port, then for each server configuration starts `appidgate demo` against it (and redis-server
// for the Redis rows, which are skipped when -redis is empty or not found; or, for the proxy rows, the peer's
// upstream, the peer's plain reverse proxy and `appidgate proxy`), signs alice in over HTTP, and sends load: -c keep-alive
// connections, each sending its next request when the previous answer is read, for -d per round. Rounds
// alternate the routes of one server (open, protected, bearer, open, ...) so that drift affects them alike. A
// row reports the median over -rounds rounds of req/s, p50 and p99 latency; every answer but 200 is an error.
// With -wrk the same rounds are sent by wrk instead of Go's net/http client, as a cross-check with a lighter
// client (see wrkEngine). Each server is stopped before the next starts, and every process the command started
// is stopped on any exit. The table goes to standard output (Markdown with -md), progress to standard error; a
// run with errors says so and exits with status 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// options are the parsed flags.
type options struct {
	conns     int
	duration  time.Duration
	rounds    int
	warmup    time.Duration
	redis     string
	logLevel  string
	markdown  bool
	bin       string
	wrk       string
	logFormat string
	servers   string
	peer      string
}

// String gives the flags that decide the figures, as a command line.
func (o options) String() string {
	s := fmt.Sprintf("-c %d -d %s -rounds %d -warmup %s -log-level %s", o.conns, o.duration, o.rounds, o.warmup, o.logLevel)
	if o.wrk != "" {
		s += " -wrk " + o.wrk
	}
	if o.servers != "" {
		s += " -servers " + o.servers
	}
	return s
}

// selects reports whether -servers lets the server configuration name be measured.
func (o options) selects(name string) bool {
	if o.servers == "" {
		return true
	}
	for prefix := range strings.SplitSeq(o.servers, ",") {
		if prefix = strings.TrimSpace(prefix); prefix != "" && strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.conns, "c", 32, "keep-alive connections sending at once")
	fs.DurationVar(&o.duration, "d", 5*time.Second, "duration of one round on one route")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds per route; a row reports their median")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unrecorded load per route before the rounds of each server")
	fs.StringVar(&o.redis, "redis", "redis-server", "redis-server binary for the Redis sessions row (empty: skip the row)")
	fs.StringVar(&o.logLevel, "log-level", "error", "APPIDGATE_LOG_LEVEL of the measured server (info logs a line per request)")
	fs.BoolVar(&o.markdown, "md", false, "write the table as Markdown, with the conditions of the run")
	fs.StringVar(&o.bin, "bin", "", "appidgate binary to measure (default: build ./cmd/appidgate)")
	fs.StringVar(&o.peer, "peer", "", "deploy/load/peer binary for the proxy rows (default: build it)")
	fs.StringVar(&o.wrk, "wrk", "", "send the load with this wrk binary instead of Go's net/http client")
	fs.StringVar(&o.servers, "servers", "", "measure only the server configurations whose names start with one of these, comma-separated (e.g. proxy)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.logFormat = "json" // what containers get, and what the server logs when its output is not a terminal
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.conns < 1:
		return o, fmt.Errorf("-c must be at least 1, got %d", o.conns)
	case o.duration <= 0:
		return o, fmt.Errorf("-d must be positive, got %s", o.duration)
	case o.rounds < 1:
		return o, fmt.Errorf("-rounds must be at least 1, got %d", o.rounds)
	case o.warmup < 0:
		return o, fmt.Errorf("-warmup must not be negative, got %s", o.warmup)
	}
	return o, nil
}

// route is one measured route of a server.
type route struct {
	name   string // as the report shows it
	path   string
	want   string // text the answer must contain
	base   bool   // the row to which the server's other rows are compared
	bearer bool   // sends alice's access token; otherwise alice's session cookie (ignored by the open route)
	target target // which process the load goes to
}

// target names the process a route's load goes to.
type target int

const (
	toServer       target = iota // appidgate, demo or proxy
	toUpstream                   // the proxy's upstream, directly
	toReverseProxy               // the plain httputil.ReverseProxy in front of the upstream
)

// The demo's answers (cmd/appidgate/demoapp.go).
const (
	authRouteText   = "This route requires authentication and authorization - Powered by IBM Cloud App ID!"
	noauthRouteText = "This route is open to all!"
)

var (
	openRoute      = route{name: "open /noauth_route", path: "/noauth_route", want: noauthRouteText, base: true}
	protectedRoute = route{name: "protected /auth_route", path: "/auth_route", want: authRouteText}
	bearerRoute    = route{name: "bearer /api/auth_route", path: "/api/auth_route", want: authRouteText, bearer: true}

	// The proxy's rows: the same upstream route alone, through a plain reverse proxy (the base), and through
	// appidgate proxy with alice's session.
	upstreamRoute = route{name: "upstream alone /auth_route", path: "/auth_route", want: authRouteText,
		target: toUpstream}
	reverseProxyRoute = route{name: "httputil.ReverseProxy /auth_route", path: "/auth_route", want: authRouteText,
		target: toReverseProxy, base: true}
	proxyPublicRoute    = route{name: "proxy, public /noauth_route", path: "/noauth_route", want: noauthRouteText}
	proxyProtectedRoute = route{name: "proxy, session /auth_route", path: "/auth_route", want: authRouteText}
)

// serverConfig is one configuration of appidgate (the demo, or the proxy) and the routes measured on it.
type serverConfig struct {
	name   string
	env    []string // settings added to the demo's
	redis  bool     // needs a Redis server, whose URL is added as APPIDGATE_REDIS_URL
	proxy  bool     // runs `appidgate proxy` in front of the peer's upstream, beside the plain reverse proxy
	routes []route
}

func serverConfigs() []serverConfig {
	return []serverConfig{
		{name: "cookie sessions", routes: []route{openRoute, protectedRoute, bearerRoute}},
		{name: "Redis sessions", redis: true, routes: []route{openRoute, protectedRoute}},
		{name: "cookie + introspection", env: []string{"APPIDGATE_INTROSPECT=1"}, routes: []route{openRoute, protectedRoute}},
		{name: "proxy (cookie sessions)", proxy: true,
			routes: []route{upstreamRoute, reverseProxyRoute, proxyPublicRoute, proxyProtectedRoute}},
	}
}

func run(ctx context.Context, args []string, out, progress io.Writer) error {
	o, err := parseFlags(args, progress)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "appidgate-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if o.bin == "" {
		o.bin = filepath.Join(dir, "appidgate")
		fmt.Fprintln(progress, "building ./cmd/appidgate")
		if err := build(ctx, o.bin, "github.com/appidgate/appidgate/cmd/appidgate"); err != nil {
			return err
		}
	}
	if o.peer == "" {
		o.peer = filepath.Join(dir, "peer")
		fmt.Fprintln(progress, "building ./deploy/load/peer")
		if err := build(ctx, o.peer, "github.com/appidgate/appidgate/deploy/load/peer"); err != nil {
			return err
		}
	}
	if o.wrk != "" {
		if _, err := exec.LookPath(o.wrk); err != nil {
			return fmt.Errorf("-wrk: %w", err)
		}
	}
	redisBin, redisSkip := "", "no -redis given"
	if o.redis != "" {
		if redisBin, err = exec.LookPath(o.redis); err != nil {
			redisBin, redisSkip = "", fmt.Sprintf("%s not found", o.redis)
		}
	}

	loadBefore := loadAverage()
	var ps procs
	defer func() {
		if err := ps.stopAll(); err != nil {
			fmt.Fprintln(progress, "load:", err)
		}
	}()
	idp, err := startIdP(ctx, &ps, o.bin)
	if err != nil {
		return err
	}
	token, err := accessToken(ctx, idp.settings["APPID_OAUTH_SERVER_URL"], "alice")
	if err != nil {
		return fmt.Errorf("getting alice's access token for the bearer route: %w", err)
	}

	var rows []row
	for _, sc := range serverConfigs() {
		if !o.selects(sc.name) {
			continue
		}
		if sc.redis && redisBin == "" {
			for _, rt := range sc.routes {
				rows = append(rows, row{server: sc.name, route: rt.name, base: rt.base, skipped: redisSkip})
			}
			fmt.Fprintf(progress, "%s: skipped (%s)\n", sc.name, redisSkip)
			continue
		}
		measured, err := measureServer(ctx, &ps, o, sc, idp, redisBin, token, progress)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		rows = append(rows, measured...)
	}
	if err := ps.stopAll(); err != nil {
		return err
	}

	if o.markdown {
		fmt.Fprintf(out, "`go run ./deploy/load %s -md` on %s: %s, %s, %d CPUs shared by the load generator, the demo, "+
			"the provider and Redis, load average %s before the run.\n\n",
			o, time.Now().UTC().Format("2006-01-02"), runtime.Version(), cpuModel(), runtime.NumCPU(), loadBefore)
		writeMarkdown(out, rows)
	} else {
		fmt.Fprintf(out, "load %s: %s, %s, %d CPUs, load average %s before the run\n", o, runtime.Version(), cpuModel(), runtime.NumCPU(), loadBefore)
		writeText(out, rows)
	}

	var failed []string
	for _, r := range rows {
		if r.errors > 0 {
			failed = append(failed, fmt.Sprintf("%s, %s: %d errors, first: %s", r.server, r.route, r.errors, r.firstError))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("THE RUN HAD ERRORS, its figures do not measure the request path:\n  %s", strings.Join(failed, "\n  "))
	}
	return nil
}

// build compiles the package pkg of this module to dst.
func build(ctx context.Context, dst, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dst, pkg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("building %s (run inside the repository): %w", pkg, err)
	}
	return nil
}

// provider is the running `appidgate idp` and the settings it printed for the demo.
type provider struct {
	*proc
	settings map[string]string // APPID_OAUTH_SERVER_URL, APPID_CLIENT_ID, ...
}

// startIdP runs `appidgate idp` on a free loopback port and reads the settings it prints.
func startIdP(ctx context.Context, ps *procs, bin string) (*provider, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := ps.start("appidgate idp", bin, []string{"idp", "--addr", addr}, nil)
	if err != nil {
		return nil, err
	}
	// The settings are printed once the provider listens, before the list of users.
	if err := p.waitFor(ctx, "printing its settings", func() bool { return strings.Contains(p.out.String(), "\nusers:\n") }); err != nil {
		return nil, err
	}
	settings := map[string]string{}
	for _, line := range strings.Split(p.out.String(), "\n") {
		// export NAME=value lines; the demo's values need no shell quoting.
		line, ok := strings.CutPrefix(line, "export ")
		if !ok {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && k != "" && strings.Trim(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == "" {
			settings[k] = v
		}
	}
	for _, k := range []string{"APPID_OAUTH_SERVER_URL", "IAM_TOKEN_URL", "APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "IBM_CLOUD_APIKEY", "SESSION_SECRET_KEY"} {
		if settings[k] == "" {
			return nil, p.failure("printed no " + k)
		}
	}
	return &provider{proc: p, settings: settings}, nil
}

// peer is a running deploy/load/peer and the URL it serves.
type peer struct {
	*proc
	base string
}

// startPeer runs the peer in mode on a free loopback port, with args, and waits until it answers.
func startPeer(ctx context.Context, ps *procs, bin, mode string, args ...string) (*peer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := ps.start("peer "+mode, bin, append([]string{mode, "-addr", addr}, args...), nil)
	if err != nil {
		return nil, err
	}
	base := "http://" + addr
	if err := p.waitHTTP(ctx, base+"/noauth_route"); err != nil {
		return nil, err
	}
	return &peer{proc: p, base: base}, nil
}

// measureServer starts the demo (or the proxy and its peers) as sc says, checks every route once, warms up, runs the rounds and stops the
// demo (and its Redis) again.
func measureServer(ctx context.Context, ps *procs, o options, sc serverConfig, idp *provider, redisBin, token string, progress io.Writer) ([]row, error) {
	var extra []string
	if sc.redis {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		_, port, _ := strings.Cut(addr, ":")
		redis, err := ps.start("redis-server", redisBin,
			[]string{"--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no"}, nil)
		if err != nil {
			return nil, err
		}
		defer redis.stop()
		if err := redis.waitRedis(ctx, addr); err != nil {
			return nil, err
		}
		extra = append(extra, "APPIDGATE_REDIS_URL=redis://"+addr)
	}
	args := []string{"demo"}
	targets := map[target]string{}
	if sc.proxy {
		upstream, err := startPeer(ctx, ps, o.peer, "upstream")
		if err != nil {
			return nil, err
		}
		defer upstream.stop()
		plain, err := startPeer(ctx, ps, o.peer, "reverseproxy", "-upstream", upstream.base)
		if err != nil {
			return nil, err
		}
		defer plain.stop()
		targets[toUpstream], targets[toReverseProxy] = upstream.base, plain.base
		args = []string{"proxy", "--upstream", upstream.base, "--public", "/noauth_route"}
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	base := "http://" + addr
	targets[toServer] = base
	env := []string{
		"APPIDGATE_LISTEN_ADDR=" + addr,
		"APPID_REDIRECT_URI=" + base + "/afterauth",
		"APPIDGATE_LOG_LEVEL=" + o.logLevel,
		"APPIDGATE_LOG_FORMAT=" + o.logFormat,
		"APPIDGATE_SHUTDOWN_DELAY=0", // no load balancer to tell: stop at once after the measurement
	}
	for k, v := range idp.settings {
		if k != "APPID_REDIRECT_URI" {
			env = append(env, k+"="+v)
		}
	}
	env = append(append(env, sc.env...), extra...)
	demo, err := ps.start("appidgate "+args[0]+" ("+sc.name+")", o.bin, args, env)
	if err != nil {
		return nil, err
	}
	defer demo.stop()
	// /readyz answers 200 once the provider's metadata and keys are loaded (and Redis answers).
	if err := demo.waitHTTP(ctx, base+"/readyz"); err != nil {
		return nil, err
	}
	cookie, err := sessionCookie(ctx, base, "alice")
	if err != nil {
		return nil, err
	}
	client := newLoadClient(o.conns)
	defer client.CloseIdleConnections()
	send := goEngine(client)
	if o.wrk != "" {
		send = wrkEngine(o.wrk)
	}
	headers := func(rt route) http.Header {
		if rt.bearer {
			return http.Header{"Authorization": {"Bearer " + token}}
		}
		return http.Header{"Cookie": {cookie}}
	}
	for _, rt := range sc.routes {
		if err := checkRoute(ctx, client, targets[rt.target]+rt.path, headers(rt), rt.want); err != nil {
			return nil, fmt.Errorf("%s before load: %w", rt.name, demo.failure(err.Error()))
		}
	}
	if o.warmup > 0 {
		for _, rt := range sc.routes {
			if _, err := send(ctx, targets[rt.target]+rt.path, headers(rt), o.conns, o.warmup); err != nil {
				return nil, err
			}
		}
	}
	rows := make([]row, len(sc.routes))
	for i, rt := range sc.routes {
		rows[i] = row{server: sc.name, route: rt.name, base: rt.base}
	}
	for n := range o.rounds {
		for i, rt := range sc.routes {
			rr, err := send(ctx, targets[rt.target]+rt.path, headers(rt), o.conns, o.duration)
			if err != nil {
				return nil, err
			}
			rows[i].add(rr)
			fmt.Fprintf(progress, "%s, %s, round %d/%d: %s req/s, %d errors\n", sc.name, rt.name, n+1, o.rounds, thousands(rr.rate), rr.errors)
		}
	}
	return rows, demo.stop()
}

// checkRoute sends one request and wants 200 with a body containing want.
func checkRoute(ctx context.Context, client *http.Client, url string, header http.Header, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s answered %s (Location %q), want 200 with %q: %.200s", url, resp.Status, resp.Header.Get("Location"), want, body)
	}
	return nil
}

// loadAverage returns the one-minute load average from /proc/loadavg, or "unknown": other work on the machine
// takes CPU from the measured server, and the reader should know.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// cpuModel names the processor from /proc/cpuinfo, or the architecture where that is not available.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
