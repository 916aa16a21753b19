package proxy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/appid"
)

const exampleRoutes = `# default for paths no rule names: any-role (the reference's check)
default: any-role
routes:
  - path: /noauth_route
    public: true
  - path: /static/
    public: true
  - path: /admin
    policy: role:admin
  - path: /api/
    api: true
    policy: scope:view
  - path: /api/health
    public: true
    api: true
  - path: /reports
    methods: [POST, DELETE]
    policy: any-of [role:admin, scope:reports]
  - path: /reports
    methods: [GET]
    policy: authenticated
  - path: /
    methods: [OPTIONS]
    public: true
`

// ruleString shows a Rule in test failures and comparisons: "PATTERN public api POLICY".
func ruleString(r Rule) string {
	s := r.Pattern
	if r.Public {
		s += " public"
	}
	if r.API {
		s += " api"
	}
	if !r.Public {
		s += " " + r.Policy.String()
	}
	return s
}

func TestMatch(t *testing.T) {
	t.Parallel()
	rt, err := ParseRoutes("example.yaml", []byte(exampleRoutes))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ method, path, want string }{
		{"GET", "/", "default any_role"},
		{"GET", "/auth_route", "default any_role"},
		{"GET", "/noauth_route", "/noauth_route public"},
		{"GET", "/noauth_route/x", "/noauth_route public"},
		{"GET", "/noauth_routes", "default any_role"},
		{"GET", "/static/app.js", "/static/ public"},
		{"GET", "/static/", "/static/ public"},
		{"GET", "/static", "/static/ public"}, // a trailing slash on a rule's path changes nothing
		{"GET", "/staticx", "default any_role"},
		{"GET", "/admin", "/admin role:admin"},
		{"GET", "/admin/", "/admin role:admin"},
		{"GET", "/admin/users/1", "/admin role:admin"},
		{"GET", "/administrator", "default any_role"}, // segment boundary
		{"GET", "/ADMIN", "default any_role"},         // case-sensitive
		{"GET", "/api/v1/items", "/api/ api scope:view"},
		{"GET", "/api", "/api/ api scope:view"},
		{"GET", "/api/health", "/api/health public api"}, // longest prefix wins
		{"GET", "/api/healthz", "/api/ api scope:view"},
		{"POST", "/reports", "/reports any(role:admin|scope:reports)"},
		{"DELETE", "/reports/7", "/reports any(role:admin|scope:reports)"},
		{"delete", "/reports/7", "/reports any(role:admin|scope:reports)"}, // methods compared without case
		{"GET", "/reports", "/reports authenticated"},
		{"HEAD", "/reports", "/reports authenticated"}, // GET covers HEAD
		{"PUT", "/reports", "default any_role"},        // no rule for PUT: the default
		{"OPTIONS", "/reports", "/ public"},
		{"OPTIONS", "/admin", "/admin role:admin"}, // a longer path beats a method on a shorter one
	}
	for _, tc := range tests {
		if got := ruleString(rt.Match(tc.method, tc.path)); got != tc.want {
			t.Errorf("Match(%s, %s) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestMatchHeadRuleBeatsGet(t *testing.T) {
	t.Parallel()
	rt, err := ParseRoutes("r.yaml", []byte(`
routes:
  - {path: /x, methods: [GET], policy: role:reader}
  - {path: /x, methods: [HEAD], public: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleString(rt.Match("HEAD", "/x")); got != "/x public" {
		t.Errorf("HEAD /x = %q, want the HEAD rule", got)
	}
	if got := ruleString(rt.Match("GET", "/x")); got != "/x role:reader" {
		t.Errorf("GET /x = %q, want the GET rule", got)
	}
}

func TestMatchNilAndEmpty(t *testing.T) {
	t.Parallel()
	var nilRoutes *Routes
	if got := ruleString(nilRoutes.Match("GET", "/x")); got != "default any_role" {
		t.Errorf("nil Routes: %q", got)
	}
	for _, data := range []string{"", "# nothing\n", "routes:\n", "default: authenticated\n"} {
		rt, err := ParseRoutes("r.yaml", []byte(data))
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		want := "default any_role"
		if strings.HasPrefix(data, "default") {
			want = "default authenticated"
		}
		if got := ruleString(rt.Match("GET", "/x")); got != want {
			t.Errorf("%q: Match = %q, want %q", data, got, want)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	rt, err := ParseRoutes("example.yaml", []byte(exampleRoutes))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/auth_route", "/static/app.js", "/reports", "/api/health"} {
		if n := testing.AllocsPerRun(100, func() { _ = rt.Match("HEAD", p) }); n != 0 {
			t.Errorf("Match(%s): %v allocations, want 0", p, n)
		}
	}
}

func TestPolicySyntax(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"authenticated", "authenticated"},
		{"any-role", "any_role"},
		{"role:admin", "role:admin"},
		{"  role: admin  ", "role:admin"},
		{"role:Team Lead", "role:Team Lead"},
		{`role:"R&D, west"`, "role:R&D, west"},
		{"scope:app/view", "scope:app/view"},
		{"scope:urn:x:read", "scope:urn:x:read"},
		{"any-of [role:admin, scope:reports]", "any(role:admin|scope:reports)"},
		{"all-of[role:user,scope:view]", "role:user,scope:view"},
		{"any-of [role:admin, all-of [role:user, scope:reports]]", "any(role:admin|role:user,scope:reports)"},
		{"any-of [authenticated]", "any(authenticated)"},
		{"claim:groups=admins", "claim:groups=admins"},
		{"claim: groups = admins ", "claim:groups=admins"},
		{"claim:realm_access.roles=admin", "claim:realm_access.roles=admin"},
		{"claim:resource_access.my-app.roles=client_role", "claim:resource_access.my-app.roles=client_role"},
		{"claim:cognito:groups=admins", "claim:cognito:groups=admins"},
		{"claim:https://example.com/roles=editor", "claim:https://example.com/roles=editor"},
		{"claim:tenant=a=b:c", "claim:tenant=a=b:c"}, // the path ends at the first "="
		{"claim:department=R&D west", "claim:department=R&D west"},
		{`claim:department="R&D, west"`, "claim:department=R&D, west"},
		{"claim:email_verified=true", "claim:email_verified=true"},
		{"any-of [claim:groups=admins, role:admin]", "any(claim:groups=admins|role:admin)"},
		{"all-of [claim:cognito:groups=ops,claim:level=3]", "claim:cognito:groups=ops,claim:level=3"},
	}
	for _, tc := range tests {
		pol, _, msg := parsePolicyExpr(tc.in)
		if msg != "" || pol.String() != tc.want {
			t.Errorf("parsePolicyExpr(%q) = %q, %q; want %q", tc.in, pol.String(), msg, tc.want)
		}
	}
	bad := []struct {
		in   string
		at   int
		want string
	}{
		{"", 0, "missing policy"},
		{"admin", 0, `unknown policy "admin"`},
		{"Role:admin", 0, `did you mean role?`},
		{"any_role", 0, `did you mean any-role?`},
		{"role:", 5, "empty role name"},
		{"scope: ", 7, "empty scope name"},
		{"role", 4, "role needs a name"},
		{"role:admin, scope:x", 10, "combine policies with any-of"},
		{"any-of", 6, "any-of needs a list"},
		{"any-of []", 7, "any-of [] is empty"},
		{"any-of [role:a", 7, "missing ]"},
		{"any-of [role:, role:b]", 13, "empty role name"},
		{"all-of [role:a role:b]", 15, `missing "," before`},
		{"any-of [role:a all-of [role:b]]", 15, `missing "," before`},
		{"any-of [role:a] x", 16, `unexpected "x"`},
		{`role:"unterminated`, 5, "malformed quoted name"},
		{`role:a[b]`, 6, "quote the name"},
		{"any-of [" + strings.Repeat("any-of [", 20) + "role:a" + strings.Repeat("]", 21), 0, "nested more than"},
		{"claim", 5, "claim needs a path and a value"},
		{"claim:", 6, "empty claim path"},
		{"claim:=admins", 6, "empty claim path"},
		{"claim:groups", 12, "claim groups needs a value: write claim:groups=VALUE"},
		{"claim:groups admins", 13, `claim path holds 'a'`},
		{"claim:groups=", 13, "empty claim value: write claim:PATH=VALUE"},
		{`claim:groups=""`, 13, "empty claim value"},
		{`claim:groups="x`, 13, "malformed quoted value"},
		{"claim:gr@ups=x", 8, `claim path holds '@'`},
		{"claim:grüppen=x", 8, `claim path holds 'ü'`},
		{`claim:"groups"=x`, 6, `claim path holds '"'`},
		{"claim:.groups=x", 6, "has an empty segment"},
		{"claim:realm_access..roles=x", 6, "has an empty segment"},
		{"claim:groups.=x", 6, "has an empty segment"},
		{"claim:groups=a[b]", 14, `claim value holds '[': quote the value, e.g. claim:PATH="a[b]"`},
		{"any-of [claim:groups=a claim:groups=b]", 23, `missing "," before "claim:"`},
		{"any-of [claim:groups, role:x]", 20, "claim groups needs a value"},
		{"Claim:groups=x", 0, "did you mean claim?"},
	}
	for _, tc := range bad {
		_, at, msg := parsePolicyExpr(tc.in)
		if msg == "" || !strings.Contains(msg, tc.want) {
			t.Errorf("parsePolicyExpr(%q) message %q, want one containing %q", tc.in, msg, tc.want)
		}
		if tc.want != "" && tc.want != "nested more than" && at != tc.at {
			t.Errorf("parsePolicyExpr(%q) at %d, want %d (%s)", tc.in, at, tc.at, msg)
		}
	}
}

func TestClaimPolicyBehaviour(t *testing.T) {
	t.Parallel()
	pol, _, msg := parsePolicyExpr("any-of [claim:cognito:groups=admins, all-of [claim:realm_access.roles=editor, scope:reports]]")
	if msg != "" {
		t.Fatal(msg)
	}
	tests := []struct {
		name   string
		claims map[string]any
		scopes []string
		want   bool
	}{
		{"cognito admin", map[string]any{"cognito:groups": []any{"users", "admins"}}, nil, true},
		{"editor with scope", map[string]any{"realm_access": map[string]any{"roles": []any{"editor"}}}, []string{"app/reports"}, true},
		{"editor without scope", map[string]any{"realm_access": map[string]any{"roles": []any{"editor"}}}, nil, false},
		{"groups under another name", map[string]any{"groups": []any{"admins"}}, nil, false},
		{"no claims", nil, []string{"app/reports"}, false},
	}
	for _, tc := range tests {
		if got := pol.Allows(&appid.User{Claims: tc.claims, Scopes: tc.scopes}); got != tc.want {
			t.Errorf("%s: Allows = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPolicyBehaviour(t *testing.T) {
	t.Parallel()
	pol, _, msg := parsePolicyExpr("any-of [role:admin, all-of [role:user, scope:reports]]")
	if msg != "" {
		t.Fatal(msg)
	}
	tests := []struct {
		name string
		user *appid.User
		want bool
	}{
		{"admin", &appid.User{Roles: []string{"admin"}}, true},
		{"user with scope", &appid.User{Roles: []string{"user"}, Scopes: []string{"app/reports"}}, true},
		{"user without scope", &appid.User{Roles: []string{"user"}}, false},
		{"nobody", nil, false},
	}
	for _, tc := range tests {
		if got := pol.Allows(tc.user); got != tc.want {
			t.Errorf("%s: Allows = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseRoutesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml, want string }{
		{"unknown top key", "defaults: any-role\n", `r.yaml:1:1: unknown key "defaults" in the routes file`},
		{"unknown rule key", "routes:\n  - path: /a\n    polcy: role:a\n", `r.yaml:3:5: unknown key "polcy" in a rule`},
		{"repeated key", "routes:\n  - path: /a\n    policy: role:a\n    policy: role:b\n", `r.yaml:4:5: key "policy" repeated (first at line 3)`},
		{"unknown policy", "routes:\n  - path: /a\n    policy: rol:admin\n", `r.yaml:3:13: policy: unknown policy "rol"`},
		{"unknown default", "default: everyone\n", `r.yaml:1:10: default: unknown policy "everyone"`},
		{"error column inside policy", "routes:\n  - path: /a\n    policy: any-of [role:a, rol:b]\n", `r.yaml:3:29: policy: unknown policy "rol"`},
		{"empty role", "routes:\n  - path: /a\n    policy: role:\"\"\n", `r.yaml:3:18: policy: empty role name`},
		{"empty role in list", "routes:\n  - path: /a\n    policy: any-of [role:]\n", `r.yaml:3:26: policy: empty role name`},
		{"claim without value", "routes:\n  - path: /a\n    policy: claim:cognito:groups\n", `r.yaml:3:33: policy: claim cognito:groups needs a value`},
		{"claim path with a space", "routes:\n  - path: /a\n    policy: any-of [role:a, claim:my groups=x]\n", `r.yaml:3:38: policy: claim path holds 'g'`},
		{"claim default", "default: claim:=x\n", `r.yaml:1:16: default: empty claim path`},
		{"role: at line end is YAML", "routes:\n  - path: /a\n    policy: role:\n", `r.yaml:3: mapping values are not allowed`},
		{"empty policy", "routes:\n  - path: /a\n    policy:\n", `r.yaml:3:12: policy: expected a policy`},
		{"quoted empty policy", "routes:\n  - path: /a\n    policy: \"\"\n", `r.yaml:3:13: policy: expected a policy`},
		{"relative path", "routes:\n  - path: admin\n    public: true\n", `r.yaml:2:11: path "admin" must start with "/"`},
		{"no path", "routes:\n  - public: true\n", `r.yaml:2:5: rule without a path`},
		{"unclean path", "routes:\n  - path: /a//b/../c\n    public: true\n", `r.yaml:2:11: path "/a//b/../c" is not clean: write "/a/c"`},
		{"glob", "routes:\n  - path: /static/*\n    public: true\n", `paths are prefixes, not globs`},
		{"query in path", "routes:\n  - path: /a?x=1\n    public: true\n", `never the query`},
		{"escaped path", "routes:\n  - path: /a%20b\n    public: true\n", `write the path decoded`},
		{"semicolon path", "routes:\n  - path: /a;b\n    public: true\n", `never matches: such requests are refused (semicolon`},
		{"public with policy", "routes:\n  - path: /a\n    public: true\n    policy: role:x\n", `r.yaml:4:5: a public rule has no policy`},
		{"says nothing", "routes:\n  - path: /a\n    public: false\n", `r.yaml:2:5: rule for /a says nothing`},
		{"bool not bool", "routes:\n  - path: /a\n    public: yes\n", `r.yaml:3:13: public: expected true or false, got "yes"`},
		{"api not bool", "routes:\n  - path: /a\n    api: 1\n", `r.yaml:3:10: api: expected true or false, got "1"`},
		{"unknown method", "routes:\n  - path: /a\n    methods: [GET, DELET]\n    policy: role:a\n", `r.yaml:3:20: unknown method "DELET"`},
		{"method twice", "routes:\n  - path: /a\n    methods: [GET, get]\n    policy: role:a\n", `r.yaml:3:20: method GET listed twice`},
		{"methods empty", "routes:\n  - path: /a\n    methods: []\n    policy: role:a\n", `r.yaml:3:14: methods: empty list`},
		{"methods scalar", "routes:\n  - path: /a\n    methods: GET\n    policy: role:a\n", `r.yaml:3:14: methods: expected a list`},
		{"duplicate path", "routes:\n  - path: /a\n    public: true\n  - path: /a/\n    policy: role:a\n", `r.yaml:4:11: a rule for /a/ is already at r.yaml:2:11`},
		{"duplicate method", "routes:\n  - {path: /a, methods: [GET, POST], policy: role:a}\n  - {path: /a, methods: [POST], public: true}\n", `r.yaml:3:12: a rule for POST /a is already at r.yaml:2:12`},
		{"routes not a list", "routes:\n  path: /a\n", `r.yaml:2:3: routes: expected a list of rules`},
		{"rule not a mapping", "routes:\n  - /a\n", `r.yaml:2:5: expected a rule with the keys`},
		{"file not a mapping", "- path: /a\n", `r.yaml:1:1: expected a mapping`},
		{"two documents", "default: any-role\n---\nroutes:\n", `r.yaml:2: a routes file holds one YAML document`},
		{"syntax: bad indentation", "routes:\n  - path: /a\n   policy: role:a\n", `proxy: routes r.yaml:3: did not find expected '-' indicator`},
		{"syntax: unclosed flow", "routes:\n  - path: /a\n    methods: [GET\n", `proxy: routes r.yaml:`},
		{"syntax: tab", "routes:\n\t- path: /a\n", `proxy: routes r.yaml:2: found character that cannot start any token`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRoutes("r.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "proxy: routes") {
				t.Errorf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseRoutesReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := ParseRoutes("many.yaml", []byte(`default: anyrole
routes:
  - path: admin
    policy: role:admin
  - path: /a
    methods: [FETCH]
    policy: role:""
  - path: /b
    public: true
    colour: blue
  - path: /b
    public: true
`))
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		"proxy: routes: 6 problems:",
		`many.yaml:1:10: default: unknown policy "anyrole"`,
		`many.yaml:3:11: path "admin" must start with "/"`,
		`many.yaml:6:15: unknown method "FETCH"`,
		`many.yaml:7:18: policy: empty role name`,
		`many.yaml:10:5: unknown key "colour" in a rule`,
		`many.yaml:11:11: a rule for /b is already at many.yaml:8:11`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("error has %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(strings.TrimSpace(lines[i]), w) {
			t.Errorf("line %d = %q, want %q", i, strings.TrimSpace(lines[i]), w)
		}
	}
}

func TestLoadRoutesExampleFile(t *testing.T) {
	t.Parallel()
	rt, err := LoadRoutes(filepath.Join("testdata", "routes.yaml"), RouteFlags{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/", "default any_role"},
		{"GET", "/auth_route", "default any_role"},
		{"GET", "/noauth_route", "/noauth_route public"},
		{"GET", "/static/css/site.css", "/static/ public"},
		{"GET", "/admin/users", "/admin role:admin"},
		{"GET", "/api/items", "/api/ api scope:view"},
		{"POST", "/reports/q3", "/reports any(role:admin|scope:reports)"},
		{"GET", "/reports/q3", "default any_role"},
	} {
		if got := ruleString(rt.Match(tc.method, tc.path)); got != tc.want {
			t.Errorf("Match(%s, %s) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestLoadRoutesFlags(t *testing.T) {
	t.Parallel()
	rt, err := LoadRoutes("", RouteFlags{
		Default: "authenticated",
		Public:  []string{"/noauth_route, /static/", "/healthz"},
		API:     []string{"/api/"},
		Policy: []string{"/admin=role:admin", "/api/=scope:view", "/ops = any-of [role:ops, role:admin]",
			"/groups=claim:cognito:groups=admins"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/x", "default authenticated"},
		{"/noauth_route", "/noauth_route public"},
		{"/static/a", "/static/ public"},
		{"/healthz", "/healthz public"},
		{"/api/v1", "/api/ api scope:view"},
		{"/admin", "/admin role:admin"},
		{"/ops/x", "/ops any(role:ops|role:admin)"},
		{"/groups", "/groups claim:cognito:groups=admins"}, // --policy splits at the first "=" only
	} {
		if got := ruleString(rt.Match("GET", tc.path)); got != tc.want {
			t.Errorf("Match(%s) = %q, want %q", tc.path, got, tc.want)
		}
	}

	// An --api path without --policy has the default policy.
	rt, err = LoadRoutes("", RouteFlags{API: []string{"/api/"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleString(rt.Match("GET", "/api/x")); got != "/api/ api any_role" {
		t.Errorf("--api alone: %q", got)
	}
}

func TestLoadRoutesFileAndFlags(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(file, []byte(exampleRoutes), 0o600); err != nil {
		t.Fatal(err)
	}
	rt, err := LoadRoutes(file, RouteFlags{
		Public: []string{"/healthz"},
		Policy: []string{"/billing=role:billing", "/reports=role:auditor"}, // the file's /reports rules list methods
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/healthz", "/healthz public"},
		{"GET", "/billing/1", "/billing role:billing"},
		{"GET", "/admin", "/admin role:admin"},
		{"PUT", "/reports", "/reports role:auditor"},
		{"POST", "/reports", "/reports any(role:admin|scope:reports)"},
	} {
		if got := ruleString(rt.Match(tc.method, tc.path)); got != tc.want {
			t.Errorf("Match(%s, %s) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}

	_, err = LoadRoutes(file, RouteFlags{
		Default: "authenticated",
		Public:  []string{"/admin", "static/"},
		API:     []string{"/api/"},
		Policy:  []string{"/static/=role:x", "/noauth", "/billing=rol:billing", "/healthz=role:a", "/healthz=role:b"},
	})
	if err == nil {
		t.Fatal("conflicting flags accepted")
	}
	for _, want := range []string{
		"--default-policy authenticated: the default is already set at " + file + ":2:10",
		`--public static/: path "static/" must start with "/"`,
		"--policy /static/=role:x: a rule for /static/ is already at " + file + ":6:11",
		"--policy /noauth: expected PATH=POLICY",
		`--policy /billing=rol:billing: unknown policy "rol"`,
		"--policy /healthz=role:b: /healthz already has a policy (--policy /healthz=role:a)",
		"--public /admin: a rule for /admin is already at " + file + ":8:11",
		"--api /api/: a rule for /api/ is already at " + file + ":10:11",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error:\n%v\nwant it to contain %q", err, want)
		}
	}

	if _, err := LoadRoutes("", RouteFlags{Public: []string{"/a"}, Policy: []string{"/a=role:x"}}); err == nil ||
		!strings.Contains(err.Error(), "--policy /a=role:x: /a is also public") {
		t.Errorf("public and policy for one path: %v", err)
	}
	if _, err := LoadRoutes(filepath.Join(t.TempDir(), "missing.yaml"), RouteFlags{}); err == nil ||
		!strings.HasPrefix(err.Error(), "proxy: routes: open ") {
		t.Errorf("missing file: %v", err)
	}
}

// TestClaimFlagsNameTheFlag: a bad claim policy in --policy or --default-policy stops start-up naming the flag.
func TestClaimFlagsNameTheFlag(t *testing.T) {
	t.Parallel()
	_, err := LoadRoutes("", RouteFlags{Default: "claim:groups", Policy: []string{"/x=claim:my groups=y", "/y=claim:realm_access..roles=z"}})
	if err == nil {
		t.Fatal("bad claim policies accepted")
	}
	for _, want := range []string{
		"--default-policy claim:groups: claim groups needs a value",
		"--policy /x=claim:my groups=y: claim path holds 'g'",
		`--policy /y=claim:realm_access..roles=z: claim path "realm_access..roles" has an empty segment`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error:\n%v\nwant it to contain %q", err, want)
		}
	}
}

// TestPublicFallThroughs: method-only rules whose other methods fall to a public rule are named, and no others.
func TestPublicFallThroughs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"POST-only under a public root", `routes:
  - {path: /, public: true}
  - {path: /admin, methods: [POST, DELETE], policy: role:admin}
`, []string{"/admin has rules for POST, DELETE only: GET, HEAD, PUT, PATCH, OPTIONS, any other method fall to /, which is public"}},
		{"under a public prefix", `routes:
  - {path: /public/, public: true}
  - {path: /public/form, methods: [POST], policy: authenticated}
`, []string{"/public/form has rules for POST only: GET, HEAD, PUT, PATCH, DELETE, OPTIONS, any other method fall to /public/, which is public"}},
		{"a parent public for GET only", `routes:
  - {path: /, methods: [GET], public: true}
  - {path: /admin, methods: [POST], policy: role:admin}
`, []string{"/admin has rules for POST only: GET, HEAD fall to /, which is public"}},
		{"a rule for all methods beside it", `routes:
  - {path: /, public: true}
  - {path: /admin, methods: [POST], policy: role:admin}
  - {path: /admin, policy: authenticated}
`, nil},
		{"falls to the default", `routes:
  - {path: /admin, methods: [POST], policy: role:admin}
`, nil},
		{"a public sibling, not a parent", `routes:
  - {path: /adm, public: true}
  - {path: /admin, methods: [POST], policy: role:admin}
`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := ParseRoutes("routes.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := rt.PublicFallThroughs(); !slices.Equal(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}
