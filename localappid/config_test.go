package localappid_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadConfig: YAML and JSON load, absent sections keep the defaults, and bad files name every problem.
func TestLoadConfig(t *testing.T) {
	yamlFile := `
tenant: my-tenant
access_token_ttl: 10m
iam_token_ttl: 30s
clients:
  - id: web
    secret: web-secret
    redirect_uris: [https://app.example/afterauth]
users:
  - id: u1
    username: dave
    email: dave@example.com
    password: pw
    roles: [reader]
roles:
  - name: reader
    access:
      - application_id: web
        scopes: [read]
`
	cfg, err := localappid.LoadConfig(writeFile(t, "idp.yaml", yamlFile))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if cfg.Tenant != "my-tenant" || cfg.AccessTokenTTL != 10*time.Minute || cfg.IAMTokenTTL != 30*time.Second ||
		len(cfg.Clients) != 1 || cfg.Users[0].Username != "dave" || len(cfg.APIKeys) != 1 || cfg.APIKeys[0] != localappid.DemoAPIKey ||
		cfg.RefreshTokenReuseGrace != localappid.DefaultRefreshTokenReuseGrace {
		t.Fatalf("loaded %+v", cfg)
	}
	if _, err := localappid.New(cfg); err != nil {
		t.Fatalf("New with the loaded config: %v", err)
	}

	jsonFile := `{"api_keys": ["k1"], "users": [{"id": "u9", "username": "erin", "password_hash": "$2a$04$abcdefghijklmnopqrstuuNcZz8kVh0d7u3mB0Rr1cO8lV2nXG0zK"}]}`
	cfg, err = localappid.LoadConfig(writeFile(t, "idp.json", jsonFile))
	if err != nil {
		t.Fatalf("LoadConfig JSON: %v", err)
	}
	if cfg.APIKeys[0] != "k1" || cfg.Users[0].Username != "erin" || cfg.Clients[0].ID != localappid.DemoClientID {
		t.Fatalf("loaded %+v", cfg)
	}

	if cfg, err = localappid.LoadConfig(writeFile(t, "empty.yaml", "")); err != nil || cfg.Tenant != localappid.DefaultTenant {
		t.Fatalf("empty file: %+v, %v", cfg, err)
	}
	for content, want := range map[string]time.Duration{"refresh_token_reuse_grace: 0s\n": 0, "refresh_token_reuse_grace: 2m\n": 2 * time.Minute} {
		if cfg, err = localappid.LoadConfig(writeFile(t, "grace.yaml", content)); err != nil || cfg.RefreshTokenReuseGrace != want {
			t.Fatalf("%q: RefreshTokenReuseGrace %v, %v; want %v", content, cfg.RefreshTokenReuseGrace, err, want)
		}
	}

	for _, tc := range []struct {
		name, content string
		wantParts     []string
	}{
		{"every bad field", `
tenant: "bad tenant"
base_url: ftp://x
access_token_ttl: 3600
refresh_token_reuse_grace: -1s
clients:
  - id: web
    redirect_uris: ["/relative"]
    grant_types: [implicit]
    backchannel_logout_uri: "https://app.example/bcl#frag"
users:
  - id: u1
    username: dave
    roles: [ghost]
  - id: u1
    username: dave
    password: x
    attributes: {"bad name": 1}
custom_identity:
  public_keys: ["not a key"]
`, []string{"custom_identity.public_keys[0]: not a PEM-encoded public key", `users[1].attributes: "bad name" is not an attribute name`, "tenant:", "base_url:", "access_token_ttl (line 4)", "e.g. 1h", "refresh_token_reuse_grace: -1s is negative", "clients[0].secret: missing", "clients[0].redirect_uris[0]",
			"clients[0].grant_types[0]", "clients[0].backchannel_logout_uri", "users[0].password: missing", "users[0].roles[0]", `users[1].id: "u1" is used twice`,
			`login name "dave" is used twice`}},
		{"unknown field", "tenant: t\ncolour: blue\n", []string{"colour"}},
		{"wrong type", "clients: yes\n", []string{"clients"}},
		{"syntax error", "clients: [\n", []string{"yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "bad.yaml", tc.content)
			_, err := localappid.LoadConfig(path)
			if err == nil {
				t.Fatal("LoadConfig accepted a bad file")
			}
			msg := err.Error()
			for _, part := range append(tc.wantParts, path, "localappid:") {
				if !strings.Contains(msg, part) {
					t.Errorf("error lacks %q:\n%s", part, msg)
				}
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		if _, err := localappid.LoadConfig(filepath.Join(t.TempDir(), "none.yaml")); err == nil || !strings.Contains(err.Error(), "none.yaml") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestNewRejectsBadConfig: New validates too, so programmatic configs get the same checks.
func TestNewRejectsBadConfig(t *testing.T) {
	cfg := localappid.DefaultConfig()
	cfg.Clients = nil
	cfg.SigningKey = testkit.RSAKey()
	if _, err := localappid.New(cfg); err == nil || !strings.Contains(err.Error(), "clients") {
		t.Fatalf("New without clients: %v", err)
	}
}

// uuidShape is the 8-4-4-4-12 hex form App ID's profile ids have.
var uuidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestDerivedUserIDs: users without an id get a stable, UUID-shaped one derived from their username (or email,
// case-insensitively), the same from a file as from a Config given to New; an explicit id is kept.
func TestDerivedUserIDs(t *testing.T) {
	load := func(t *testing.T, users string) []localappid.User {
		t.Helper()
		cfg, err := localappid.LoadConfig(writeFile(t, "idp.yaml", "users:\n"+users))
		if err != nil {
			t.Fatalf("LoadConfig: %v", err)
		}
		return cfg.Users
	}
	dave := load(t, "  - username: dave\n    password: pw\n")[0].ID
	for _, tc := range []struct {
		name   string
		users  string
		wantID func(id string) bool
	}{
		{"username", "  - username: dave\n    password: pw\n", func(id string) bool { return id == dave }},
		{"username in other case", "  - username: DAVE\n    password: pw\n", func(id string) bool { return id == dave }},
		{"another username", "  - username: erin\n    password: pw\n", func(id string) bool { return id != dave }},
		{"email only", "  - email: Erin@Example.com\n    password: pw\n", func(id string) bool { return id != dave }},
		{"explicit id", "  - id: fixed-id\n    username: dave\n    password: pw\n", func(id string) bool { return id == "fixed-id" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users := load(t, tc.users)
			id := users[0].ID
			if !tc.wantID(id) || (tc.name != "explicit id" && !uuidShape.MatchString(id)) {
				t.Fatalf("id = %q (dave's is %q)", id, dave)
			}
		})
	}
	t.Run("twice the same username", func(t *testing.T) {
		_, err := localappid.LoadConfig(writeFile(t, "idp.yaml", "users:\n  - username: dave\n    password: a\n  - username: Dave\n    password: b\n"))
		if err == nil || !strings.Contains(err.Error(), `login name "dave" is used twice`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("sub of a user given to New without id", func(t *testing.T) {
		f := newFixture(t, func(c *localappid.Config) {
			c.Users = append(c.Users, localappid.User{Username: "dave", Password: "dave"})
		})
		code, verifier := codeFor(t, f, "dave")
		tk := decodeTokens(t, exchange(t, f, code, verifier))
		if sub := jwtPart(t, tk.IDToken, 1)["sub"]; sub != dave {
			t.Fatalf("sub = %v, want %s as loaded from a file", sub, dave)
		}
	})
}

// yamlFields lists the yaml field names of a struct type and, recursively, of its struct and slice-of-struct
// fields, skipping fields never loaded from a file (yaml:"-").
func yamlFields(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		inner := f.Type
		if inner.Kind() == reflect.Slice {
			inner = inner.Elem()
		}
		if inner.Kind() == reflect.Struct && inner != reflect.TypeOf(time.Time{}) {
			names = append(names, yamlFields(inner)...)
		}
	}
	return names
}

// TestExampleConfig: testdata/example-config.yaml, the documented example of the --config format, loads, names
// every field a file can set, and its users log in with a plain password and with a bcrypt hash.
func TestExampleConfig(t *testing.T) {
	const path = "testdata/example-config.yaml"
	cfg, err := localappid.LoadConfig(path)
	if err != nil {
		t.Fatalf("LoadConfig(%s): %v", path, err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range yamlFields(reflect.TypeOf(localappid.Config{})) {
		if !regexp.MustCompile(`(?m)^[ -]*` + name + `:`).Match(raw) {
			t.Errorf("%s does not show the field %q", path, name)
		}
	}
	if cfg.Tenant != "example-tenant" || len(cfg.Clients) != 2 || len(cfg.Users) != 2 || !uuidShape.MatchString(cfg.Users[1].ID) {
		t.Fatalf("loaded %+v", cfg)
	}

	clk := newClock()
	cfg.BaseURL = "" // the example's origin is not this test's listener
	cfg.SigningKey = testkit.RSAKey()
	cfg.Now = clk.Now
	srv, err := localappid.Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatalf("Listen with the example config: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	f := &fixture{srv: srv, p: srv.Provider(), clock: clk, iss: srv.Provider().OAuthServerURL()}
	for _, tc := range []struct{ name, username, password string }{
		{"plain password", "dave", "dave-password"},
		{"bcrypt hash", "frank@example.com", "frank-password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := authParams("http://127.0.0.1:5055/afterauth", "")
			params.Set("client_id", "example-web")
			if loc := login(t, f, browser(t), params, tc.username, tc.password); loc.Query().Get("code") == "" {
				t.Fatalf("login of %s: redirected to %s without a code", tc.username, loc)
			}
		})
	}
}
