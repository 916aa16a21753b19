package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
)

// policyRoutes is the routes file of the policy command's tests.
const policyRoutes = `default: any-role
routes:
  - path: /noauth_route
    public: true
  - path: /signin
    policy: authenticated
  - path: /admin
    policy: role:admin
  - path: /api/
    api: true
    policy: scope:view
  - path: /tokens/
    bearer: true
    policy: role:user
  - path: /reports
    methods: [POST, DELETE]
    policy: any-of [role:admin, scope:reports]
  - path: /groups
    policy: claim:groups=ops
`

func writeRoutes(t *testing.T, content string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestPolicyCheck: appidgate policy check names the rule a request matches and where it is written, what it
// needs, and whether the user is allowed and why; its exit status says allowed (0), refused (1) or a usage or
// routes problem (2).
func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	routes := writeRoutes(t, policyRoutes)
	broken := writeRoutes(t, "routes:\n  - path: /admin\n    policy: admin\n")
	r := func(args ...string) []string { return append([]string{"--routes", routes}, args...) }
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // lines (or parts of lines) of the output, stdout then stderr
	}{
		{"a user without the role", r("--user", "bob", "--roles", "user", "GET", "/admin/x"), 1, []string{
			"request: GET /admin/x\n", "rule:    /admin (" + routes + ":7:11)\n", "needs:   role:admin\n",
			"user:    bob has roles user\n", "refused: needs role:admin; bob has roles user (403)\n"}},
		{"a user with the role", r("--user", "carol", "--roles", "user,admin", "GET", "/admin"), 0, []string{
			"allowed: carol meets role:admin\n"}},
		{"a path cleaned as the proxy cleans it", r("--user", "bob", "--roles", "user", "GET", "/noauth_route/../admin"), 1,
			[]string{"path:    /admin, cleaned: the proxy redirects (308) there", "rule:    /admin (", "refused: needs role:admin"}},
		{"flags after the operands", []string{"GET", "/admin", "--routes", routes, "--user", "carol", "--roles", "admin"}, 0,
			[]string{"allowed: carol meets role:admin"}},
		{"a public path, without a user", r("GET", "/noauth_route/page"), 0, []string{
			"rule:    /noauth_route (", "allowed: public, no sign-in needed\n"}},
		{"no session", r("GET", "/somewhere"), 1, []string{
			"rule:    default (no rule names the path; the default, " + routes + ":1:10)\n", "needs:   any-role\n",
			"refused: sign-in needed (a browser is sent to sign in, an API client gets 401)\n"}},
		{"no session on an API", r("GET", "/api/items"), 1, []string{
			"needs:   scope:view (an API: 401 without a session, never a login redirect)\n", "refused: sign-in needed (401)\n"}},
		{"scopes", r("--user", "alice", "--roles", "user", "--scopes", "view", "GET", "/api/items?page=2"), 0, []string{
			"user:    alice has roles user; scopes view\n", "allowed: alice meets scope:view\n"}},
		{"a method-only rule", r("--user", "dave", "--roles", "auditor", "POST", "/reports"), 1, []string{
			"needs:   any-of [role:admin, scope:reports]\n",
			"refused: needs any-of [role:admin, scope:reports]; dave has roles auditor; scopes none (403)\n"}},
		{"another method falls to the default", r("--user", "dave", "--roles", "auditor", "GET", "/reports"), 0, []string{
			"rule:    default (", "allowed: dave meets any-role\n"}},
		{"a claim", r("--user", "erin", "--claim", "groups=dev", "--claim", "groups=ops", "GET", "/groups"), 0, []string{
			"user:    erin has roles none; claims groups=[dev ops]\n", "allowed: erin meets claim:groups=ops\n"}},
		{"a claim missing", r("--user", "erin", "GET", "/groups"), 1, []string{
			"refused: needs claim:groups=ops; erin has roles none; claims none (403)\n"}},
		{"a bearer token where tokens are taken", r("--user", "bot", "--roles", "user", "--bearer", "GET", "/tokens/x"), 0,
			[]string{"needs:   role:user (bearer tokens accepted)\n", "allowed: bot meets role:user (by the bearer token)\n"}},
		{"a bearer token where they are not", r("--user", "bot", "--roles", "user", "--bearer", "GET", "/signin"), 1,
			[]string{"refused: the rule takes no bearer tokens"}},
		{"a method the proxy refuses", r("--user", "bob", "get", "/admin"), 1,
			[]string{`refused: the proxy answers 400 to the method "get"`}},
		{"a path the proxy refuses", r("--user", "bob", "GET", "/public/..;/admin"), 1,
			[]string{`refused: the proxy answers 400 to the path "/public/..;/admin"`}},
		{"the proxy's route flags", []string{"--public", "/open", "--policy", "/ops=role:ops", "--default-policy",
			"authenticated", "--user", "bob", "GET", "/ops/x"}, 1, []string{
			"rule:    /ops (--policy /ops=role:ops)\n", "refused: needs role:ops; bob has roles none (403)\n"}},
		{"the flags' default", []string{"--default-policy", "authenticated", "--user", "bob", "GET", "/x"}, 0, []string{
			"rule:    default (no rule names the path; the default, --default-policy authenticated)\n",
			"allowed: bob meets authenticated\n"}},
		{"no path", r("--user", "bob", "GET"), 2, []string{"expected METHOD PATH"}},
		{"a user's roles without a user", r("--roles", "admin", "GET", "/admin"), 2, []string{"give --user too"}},
		{"a claim without a value", r("--user", "bob", "--claim", "groups", "GET", "/admin"), 2, []string{"expected NAME=VALUE"}},
		{"routes with problems", []string{"--routes", broken, "GET", "/admin"}, 2, []string{
			broken + `:3:13: policy: unknown policy "admin"`}},
		{"an unknown flag", r("--role", "admin", "GET", "/admin"), 2, []string{"flag provided but not defined: -role"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkPolicyCommand(t, append([]string{"policy", "check"}, tc.args...), tc.wantCode, tc.want)
		})
	}
}

// checkPolicyCommand runs appidgate with args and checks its exit status, and that its output holds each of want.
func checkPolicyCommand(t *testing.T, args []string, wantCode int, want []string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, testEnv(nil, &stdout, &stderr))
	out := stdout.String() + stderr.String()
	if code != wantCode {
		t.Errorf("exit status %d, want %d; output:\n%s", code, wantCode, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the output lacks %q:\n%s", w, out)
		}
	}
}

// TestPolicyLint: appidgate policy lint names every problem of every file with its line and column, and the
// proxy's start-up warnings; problems fail it, warnings only with --strict.
func TestPolicyLint(t *testing.T) {
	t.Parallel()
	good := writeRoutes(t, policyRoutes)
	broken := writeRoutes(t, "default: any_role\nroutes:\n  - path: /admin\n    policy: role:admin, role:root\n"+
		"  - path: admin\n    public: true\n  - path: /x\n    methods: [GET, FETCH]\n    policy: role:x\n")
	notYAML := writeRoutes(t, "routes:\n  - path: /a\n   policy: [\n")
	warned := writeRoutes(t, "routes:\n  - path: /\n    public: true\n  - path: /ops\n    methods: [POST]\n    policy: role:ops\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"a good file", []string{good}, 0, []string{good + ": ok\n"}},
		{"every problem of every file", []string{good, broken, notYAML}, 1, []string{
			good + ": ok\n",
			broken + `:1:10: default: unknown policy "any_role": did you mean any-role?` + "\n",
			broken + `:4:23: policy: unexpected ", role:root" after the policy`,
			broken + `:5:11: path "admin" must start with "/"` + "\n",
			broken + `:8:20: unknown method "FETCH"`,
			notYAML + ":3: ",
			"5 problem(s), 0 warning(s)\n"}},
		{"the proxy's start-up warnings", []string{warned}, 0, []string{
			warned + ": warning: /ops has rules for POST only: GET, HEAD, PUT, PATCH, DELETE, OPTIONS, any other method fall to /, which is public\n",
			"0 problem(s), 1 warning(s)\n"}},
		{"warnings fail with --strict", []string{"--strict", warned}, 1, []string{"0 problem(s), 1 warning(s)\n"}},
		{"with the route flags", []string{"--policy", "/admin=role:boss", good}, 1, []string{
			"--policy /admin=role:boss: a rule for /admin is already at " + good + ":7:11"}},
		{"the route flags alone", []string{"--public", "/", "--policy", "/ops=role:ops"}, 0, []string{"flags: ok\n"}},
		{"a missing file", []string{filepath.Join(t.TempDir(), "none.yaml")}, 1, []string{"none.yaml: no such file"}},
		{"no file", nil, 2, []string{"expected one or more routes files"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkPolicyCommand(t, append([]string{"policy", "lint"}, tc.args...), tc.wantCode, tc.want)
		})
	}
}

// TestPolicyCheckAgreesWithProxy runs the proxy on the local provider and policy check on the same routes, for
// each demo user and a set of requests: check allows exactly what the proxy lets through to the app. Each user's
// roles and scopes are what the proxy told the app at sign-in, so check is asked about the real user.
func TestPolicyCheckAgreesWithProxy(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("signs three users in through the proxy")
	}
	routes := writeRoutes(t, policyRoutes)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"roles": r.Header.Get("X-Appidgate-Roles"),
			"scopes": r.Header.Get("X-Appidgate-Scopes")})
	}))
	defer upstream.Close()
	base := startProxy(t, []string{"--upstream", upstream.URL, "--routes", routes}, map[string]string{"PORT": "0"}).base
	requests := []struct{ method, path string }{
		{"GET", "/admin"}, {"GET", "/admin/users"}, {"GET", "/noauth_route/../admin"}, {"GET", "/api/items"},
		{"POST", "/reports"}, {"GET", "/reports"}, {"DELETE", "/reports/1"}, {"GET", "/noauth_route"},
		{"GET", "/auth_route"}, {"PUT", "/signin"}, {"GET", "/groups"},
	}
	var allowedSome, refusedSome bool
	for _, user := range []string{"alice", "bob", "carol"} {
		b := testkit.NewBrowser(t)
		p := b.SignIn(b.Get(base+"/signin"), user, user)
		var who struct{ Roles, Scopes string }
		if p.Status != http.StatusOK || json.Unmarshal([]byte(p.Body), &who) != nil {
			t.Fatalf("%s's sign-in ended at %d %s", user, p.Status, p.Body)
		}
		args := []string{"--routes", routes, "--user", user}
		if who.Roles != "" {
			args = append(args, "--roles", who.Roles)
		}
		if who.Scopes != "" {
			args = append(args, "--scopes", strings.ReplaceAll(who.Scopes, " ", ","))
		}
		for _, rq := range requests {
			req, _ := http.NewRequest(rq.method, base+rq.path, nil)
			got := b.Do(req).Status
			var out bytes.Buffer
			code := run(context.Background(), append([]string{"policy", "check"}, append(args, rq.method, rq.path)...),
				testEnv(nil, &out, &out))
			proxyAllows := got == http.StatusOK
			switch {
			case code == 0 && !proxyAllows, code == 1 && proxyAllows, code != 0 && code != 1:
				t.Errorf("%s %s %s: the proxy answered %d, check exited %d:\n%s", user, rq.method, rq.path, got, code,
					out.String())
			}
			t.Logf("%-5s %-6s %-24s proxy %d, check exit %d", user, rq.method, rq.path, got, code)
			allowedSome = allowedSome || proxyAllows
			refusedSome = refusedSome || !proxyAllows
		}
	}
	if !allowedSome || !refusedSome {
		t.Errorf("the cases should include allowed and refused requests (allowed some %v, refused some %v)",
			allowedSome, refusedSome)
	}
}
