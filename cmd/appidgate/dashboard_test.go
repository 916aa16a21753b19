package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/appidgate/appidgate/internal/testkit"
)

// dashboardFile is the Grafana dashboard shipped in deploy/.
const dashboardFile = "../../deploy/grafana/appidgate-dashboard.json"

// grafanaPanel is the part of a Grafana panel the test reads; rows hold panels of their own.
type grafanaPanel struct {
	Title   string         `json:"title"`
	Type    string         `json:"type"`
	Panels  []grafanaPanel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promName     = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	labelValues  = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`)
)

// promQLMetrics returns the metric names expr selects: the identifiers left once strings, label matchers,
// ranges and grouping clauses are gone that are neither functions, keywords nor parts of numbers.
func promQLMetrics(expr string) []string {
	s := promString.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	keywords := []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "inf", "nan"}
	var names []string
	for _, loc := range promName.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		if loc[0] > 0 && strings.ContainsAny(s[loc[0]-1:loc[0]], "0123456789.$") { // 1e3, $job
			continue
		}
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function
		}
		if slices.Contains(keywords, strings.ToLower(name)) {
			continue
		}
		names = append(names, name)
	}
	return names
}

func TestPromQLMetrics(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`sum by (code) (rate(appidgate_http_requests_total{job=~"$job",code=~"5.."}[$__rate_interval]))`,
			[]string{"appidgate_http_requests_total"}},
		{`histogram_quantile(0.99, sum by (le, route) (rate(x_bucket{a="b(c)"}[5m])))`, []string{"x_bucket"}},
		{`a / on (job) group_left (version) b > 1e3 and c offset 5m`, []string{"a", "b", "c"}},
	}
	for _, tc := range tests {
		if got := promQLMetrics(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("promQLMetrics(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// dashboardMetrics reads the dashboard and returns the metric names of every query, panel by panel title, and
// of its template variables.
func dashboardMetrics(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID        string         `json:"uid"`
		Panels     []grafanaPanel `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	byPanel := map[string][]string{}
	var walk func([]grafanaPanel)
	walk = func(panels []grafanaPanel) {
		for _, p := range panels {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, q := range p.Targets {
				names := promQLMetrics(q.Expr)
				if len(names) == 0 {
					t.Errorf("panel %q: no metric found in %q", p.Title, q.Expr)
				}
				byPanel[p.Title] = append(byPanel[p.Title], names...)
			}
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if m := labelValues.FindStringSubmatch(v.Definition); m != nil {
			byPanel["variable "+v.Name] = append(byPanel["variable "+v.Name], m[1])
		}
	}
	if len(byPanel) < 10 {
		t.Fatalf("only %d panels with queries in %s", len(byPanel), dashboardFile)
	}
	return byPanel
}

// TestDashboardMetricsExist: every metric the Grafana dashboard queries is in a real /metrics scrape of
// appidgate proxy once it has seen what each panel shows: logins (one refused by the policy), an upstream call,
// a refresh (revalidation), and a failed session store.
func TestDashboardMetricsExist(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: waits for the revalidation interval and for the Redis client to give up")
	}
	byPanel := dashboardMetrics(t)

	redis := miniredis.RunT(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "upstream "+r.URL.Path)
	}))
	defer upstream.Close()
	vars := map[string]string{"PORT": "0", "APPIDGATE_REDIS_URL": "redis://" + redis.Addr(),
		"APPIDGATE_REVALIDATE_INTERVAL": "200ms"}
	run := startProxy(t, []string{"--upstream", upstream.URL}, vars)
	base := run.base

	alice, bob := testkit.NewBrowser(t), testkit.NewBrowser(t)
	if got := alice.SignIn(alice.Get(base+"/auth_route"), "alice", "alice"); got.Status != http.StatusOK ||
		got.Body != "upstream /auth_route" {
		t.Fatalf("alice through the proxy: %d %q", got.Status, got.Body)
	}
	if got := bob.SignIn(bob.Get(base+"/auth_route"), "bob", "bob"); got.Status != http.StatusForbidden {
		t.Fatalf("bob: %d, want 403", got.Status)
	}
	time.Sleep(300 * time.Millisecond) // past the revalidation interval: alice's next request refreshes her session
	if got := alice.Get(base + "/auth_route"); got.Status != http.StatusOK {
		t.Fatalf("alice after the revalidation interval: %d", got.Status)
	}
	redis.Close()
	if got := alice.Get(base + "/auth_route"); got.Status != http.StatusServiceUnavailable {
		t.Fatalf("alice with Redis down: %d, want 503", got.Status)
	}

	scrape := testkit.NewBrowser(t).Get(base + "/metrics")
	if scrape.Status != http.StatusOK {
		t.Fatalf("/metrics: %d", scrape.Status)
	}
	samples := map[string]bool{}
	for line := range strings.SplitSeq(scrape.Body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		samples[line[:strings.IndexAny(line+" ", "{ ")]] = true
	}
	for _, want := range []string{`appidgate_token_refreshes_total{result="success"}`,
		`appidgate_session_store_errors_total{op="load"}`, `appidgate_upstream_requests_total{code="200"`} {
		if !strings.Contains(scrape.Body, want) {
			t.Errorf("the flows did not produce %s", want)
		}
	}
	for panel, names := range byPanel {
		for _, name := range names {
			if samples[name] {
				continue
			}
			t.Errorf("panel %q queries %s, which /metrics does not have", panel, name)
		}
	}
}
