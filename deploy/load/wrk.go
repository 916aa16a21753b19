package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkEngine returns the engine that runs wrk (bin) for each round, with two threads as the measurement
// did (fewer when conns is 1). wrk's client costs a few times less CPU per request than net/http's, so on a
// machine the load generator shares with the server it dilutes the server's differences less.
//
// wrk counts 3xx answers as successes; a redirect to the login page would go unnoticed, so the caller checks
// every route once before the load (and a session does not end during a run).
func wrkEngine(bin string) engine {
	return func(ctx context.Context, url string, header http.Header, conns int, d time.Duration) (roundResult, error) {
		args := []string{"-t", strconv.Itoa(min(2, conns)), "-c", strconv.Itoa(conns), "-d", wrkDuration(d), "--latency"}
		for k, vs := range header {
			for _, v := range vs {
				args = append(args, "-H", k+": "+v)
			}
		}
		out, err := exec.CommandContext(ctx, bin, append(args, url)...).CombinedOutput()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return roundResult{}, ctxErr
		}
		if err != nil {
			return roundResult{}, fmt.Errorf("%s: %w: %s", bin, err, out)
		}
		return parseWrk(string(out))
	}
}

// wrkDuration writes d for wrk's -d, which takes whole seconds: rounded up, at least 1s.
func wrkDuration(d time.Duration) string {
	return fmt.Sprintf("%ds", max((d+time.Second-1)/time.Second, 1))
}

var (
	wrkRate    = regexp.MustCompile(`(?m)^Requests/sec:\s+([\d.]+)`)
	wrkLatency = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$`)
	wrkNon2xx  = regexp.MustCompile(`(?m)^\s+Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket  = regexp.MustCompile(`(?m)^\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads the figures of a `wrk --latency` report. Non-2xx/3xx answers and socket errors are errors;
// its requests per second include them, so a run with errors is invalid whatever its rate.
func parseWrk(out string) (roundResult, error) {
	m := wrkRate.FindStringSubmatch(out)
	if m == nil {
		return roundResult{}, fmt.Errorf("wrk printed no Requests/sec line:\n%s", out)
	}
	var r roundResult
	r.rate, _ = strconv.ParseFloat(m[1], 64)
	lat := map[string]*time.Duration{"50": &r.p50, "99": &r.p99}
	for _, m := range wrkLatency.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		*lat[m[1]] = time.Duration(v * float64(unit))
		delete(lat, m[1])
	}
	if len(lat) > 0 {
		return roundResult{}, fmt.Errorf("wrk printed no latency distribution (run with --latency):\n%s", out)
	}
	var problems []string
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.errors += n
		problems = append(problems, strings.TrimSpace(m[0]))
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.errors += n
		}
		problems = append(problems, strings.TrimSpace(m[0]))
	}
	if r.errors > 0 {
		r.firstError = "wrk: " + strings.Join(problems, "; ")
	}
	return r, nil
}
