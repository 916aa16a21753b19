package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// upstreamURL is the project-internal URL the fake Code Engine gives proxy-two's upstream app.
const upstreamURL = "http://myapp.abc123.svc.cluster.local"

// appSource makes a directory holding a Dockerfile, as the user's app for proxy-one.
func appSource(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	df := "FROM python:3.12-slim\nENTRYPOINT [\"appidgate\", \"proxy\", \"--upstream\", \"http://127.0.0.1:8000\", \"--\", \"python3\", \"app.py\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// proxyEnv is fullEnv for the proxy commands: the user's source directory and image.
func proxyEnv(t *testing.T) map[string]string {
	return merge(fullEnv(), map[string]string{
		"SOURCE_DIR":        appSource(t),
		"UPSTREAM_IMAGE":    "us.icr.io/myns/myapp:v1",
		"FAKE_UPSTREAM_URL": upstreamURL,
	})
}

const oauthEnv = " --env APPID_OAUTH_SERVER_URL=https://us-south.appid.cloud.ibm.com/oauth/v4/tenant-1"
const redirectEnv = " --env APPID_REDIRECT_URI=https://appidgate-app.abc.us-south.codeengine.appdomain.cloud/afterauth"

// proxyCreate is the public proxy app of proxy-two, up to its APPIDGATE_UPSTREAM.
const proxyCreate = "ibmcloud ce application create --name myapp-proxy --image us.icr.io/myns/appidgate-img:latest" +
	" --registry-secret appidgate-icr-cred --port 8080 --min-scale 0 --max-scale 10 --concurrency 100" +
	" --cpu 0.25 --memory 0.5G --probe-live type=http --probe-live path=/healthz" +
	" --probe-ready type=http --probe-ready path=/readyz --argument proxy"

const upstreamCreate = "ibmcloud ce application create --name myapp --image us.icr.io/myns/myapp:v1" +
	" --registry-secret appidgate-icr-cred --port 8080 --visibility project --min-scale 0 --max-scale 10" +
	" --concurrency 100 --cpu 0.25 --memory 0.5G"

const upstreamGet = "ibmcloud ce application get --name myapp --output url"

// proxy-two builds neither image: it checks first that the registry has both.
const (
	inspectUpstream = "ibmcloud cr image-inspect us.icr.io/myns/myapp:v1"
	inspectProxy    = "ibmcloud cr image-inspect us.icr.io/myns/appidgate-img:latest"
)

func TestProxyCommandsDryRun(t *testing.T) {
	t.Parallel()
	const image = "us.icr.io/myns/myapp-img:latest"
	tests := []struct {
		name       string
		args       []string
		env        func(map[string]string) // changes to proxyEnv
		want       func(src string) []string
		wantStderr []string
	}{
		{name: "proxy-one", args: []string{"proxy-one"}, want: func(src string) []string {
			return []string{sel,
				"ibmcloud ce build create --name myapp-bld --build-type local --image " + image +
					" --registry-secret appidgate-icr-cred --strategy dockerfile --dockerfile Dockerfile --size small",
				"ibmcloud ce buildrun submit --build myapp-bld --source " + src + " --wait",
				"ibmcloud ce application create --name myapp --image " + image +
					" --registry-secret appidgate-icr-cred --port 8080 --min-scale 0 --max-scale 10 --concurrency 100" +
					" --cpu 0.25 --memory 0.5G --probe-live type=http --probe-live path=/healthz" +
					" --probe-ready type=http --probe-ready path=/readyz --env-from-secret appidgate-app-secret" +
					oauthEnv + redirectEnv}
		}},
		{name: "proxy-one first deployment", args: []string{"proxy-one", "--app", "shop"},
			env: func(e map[string]string) { delete(e, "APPID_REDIRECT_URI") },
			want: func(src string) []string {
				return []string{sel,
					"ibmcloud ce build create --name shop-bld --build-type local --image us.icr.io/myns/shop-img:latest" +
						" --registry-secret appidgate-icr-cred --strategy dockerfile --dockerfile Dockerfile --size small",
					"ibmcloud ce buildrun submit --build shop-bld --source " + src + " --wait",
					"ibmcloud ce application create --name shop --image us.icr.io/myns/shop-img:latest" +
						" --registry-secret appidgate-icr-cred --port 8080 --min-scale 0 --max-scale 10 --concurrency 100" +
						" --cpu 0.25 --memory 0.5G --probe-live type=http --probe-live path=/healthz" +
						" --probe-ready type=http --probe-ready path=/readyz --env-from-secret appidgate-app-secret" +
						oauthEnv + " --no-wait"}
			},
			wantStderr: []string{"APPID_REDIRECT_URI not set", "url --app shop", "app-update --app shop --redirect-uri"}},
		{name: "proxy-one-update", args: []string{"proxy-one-update", "--image-tag", "v2"}, want: func(src string) []string {
			return []string{sel,
				"ibmcloud ce build update --name myapp-bld --image us.icr.io/myns/myapp-img:v2",
				"ibmcloud ce buildrun submit --build myapp-bld --source " + src + " --wait",
				"ibmcloud ce application update --name myapp --image us.icr.io/myns/myapp-img:v2" +
					" --env-from-secret appidgate-app-secret" + oauthEnv + redirectEnv}
		}},
		{name: "proxy-two", args: []string{"proxy-two", "--public", "/noauth_route"}, want: func(string) []string {
			return []string{sel, inspectUpstream, inspectProxy, upstreamCreate, upstreamGet,
				proxyCreate + " --argument=--public=/noauth_route --env-from-secret appidgate-app-secret" + oauthEnv + redirectEnv +
					` --env "APPIDGATE_UPSTREAM=$(` + upstreamGet + `)"`}
		}, wantStderr: []string{"reachable by every workload in project appidgate-proj", "proxy/assertion",
			"proxy/assertion/testdata/verify.py", "audience http://myapp.<subdomain>.svc.cluster.local"}},
		{name: "proxy-two first deployment", args: []string{"proxy-two"},
			env: func(e map[string]string) { delete(e, "APPID_REDIRECT_URI") },
			want: func(string) []string {
				return []string{sel, inspectUpstream, inspectProxy, upstreamCreate, upstreamGet,
					proxyCreate + " --env-from-secret appidgate-app-secret" + oauthEnv + " --no-wait" +
						` --env "APPIDGATE_UPSTREAM=$(` + upstreamGet + `)"`}
			}, wantStderr: []string{"url --app myapp-proxy", "verify X-Appidgate-Assertion"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := proxyEnv(t)
			if tc.env != nil {
				tc.env(env)
			}
			r := runScript(t, env, append([]string{"--dry-run"}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			want := tc.want(env["SOURCE_DIR"])
			if got := lines(r.stdout); !slices.Equal(got, want) {
				t.Errorf("printed commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			assertDryRun(t, r)
			for _, w := range tc.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

// TestProxyCommandsRun runs the proxy commands against the fake CLI: the calls are the dry run's, and
// proxy-two hands the upstream's internal URL to the proxy.
func TestProxyCommandsRun(t *testing.T) {
	t.Parallel()
	for _, command := range []string{"proxy-one", "proxy-one-update", "proxy-two"} {
		t.Run(command, func(t *testing.T) {
			t.Parallel()
			env := proxyEnv(t)
			dry := runScript(t, env, "--dry-run", command)
			real := runScript(t, env, command)
			if real.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", real.code, real.stderr)
			}
			printed := lines(dry.stdout)
			if len(real.calls) != len(printed) {
				t.Fatalf("ran %d commands, dry run printed %d", len(real.calls), len(printed))
			}
			for i, call := range real.calls {
				got := timestampTag.ReplaceAllString("ibmcloud "+strings.Join(maskForCompare(call), " "), ":TAG")
				want := timestampTag.ReplaceAllString(unquote(printed[i]), ":TAG")
				want = strings.ReplaceAll(want, `"APPIDGATE_UPSTREAM=$(`+upstreamGet+`)"`, "APPIDGATE_UPSTREAM="+upstreamURL)
				if got != want {
					t.Errorf("command %d ran:\n%s\ndry run printed:\n%s", i, got, printed[i])
				}
			}
			if command == "proxy-two" && !strings.Contains(real.stderr, "audience "+upstreamURL) {
				t.Errorf("stderr does not name the upstream's audience %s:\n%s", upstreamURL, real.stderr)
			}
		})
	}
}

func TestProxyTwoWarnsAboutPublicUpstream(t *testing.T) {
	t.Parallel()
	env := merge(proxyEnv(t), map[string]string{"FAKE_UPSTREAM_URL": "https://myapp.abc123.us-south.codeengine.appdomain.cloud"})
	r := runScript(t, env, "proxy-two")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "is not a project-internal one") {
		t.Errorf("no warning about a public upstream URL:\n%s", r.stderr)
	}
	noURL := runScript(t, merge(proxyEnv(t), map[string]string{"FAKE_UPSTREAM_URL": "", "URL_WAIT_SECONDS": "0"}), "proxy-two")
	if noURL.code != 1 || !strings.Contains(noURL.stderr, "no URL for application myapp") {
		t.Errorf("without an upstream URL: exit %d, stderr:\n%s", noURL.code, noURL.stderr)
	}
	for _, call := range noURL.calls {
		if slices.Contains(call, "myapp-proxy") {
			t.Errorf("proxy created without an upstream: %q", call)
		}
	}
}

func TestProxyCommandsRefuseMissingValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		command string
		env     map[string]string
		want    []string
	}{
		{"proxy-one nothing", "proxy-one", nil, []string{"ICR_NAMESPACE (--icr-namespace) or IMAGE (--image)",
			"DOCKERFILE (--dockerfile): no file 'Dockerfile'", "APPID_OAUTH_SERVER_URL (--oauth-server-url)"}},
		{"proxy-one no directory", "proxy-one", map[string]string{"SOURCE_DIR": "/no/such/dir"},
			[]string{"SOURCE_DIR (--source-dir): no such directory '/no/such/dir'"}},
		{"proxy-one bad scale", "proxy-one", map[string]string{"MIN_SCALE": "x"}, []string{"MIN_SCALE (--min-scale)"}},
		{"proxy-one-update nothing", "proxy-one-update", nil, []string{"ICR_NAMESPACE", "APPID_OAUTH_SERVER_URL"}},
		{"proxy-two nothing", "proxy-two", nil, []string{"UPSTREAM_IMAGE (--upstream-image): missing",
			"ICR_NAMESPACE (--icr-namespace) or IMAGE (--image)", "APPID_OAUTH_SERVER_URL (--oauth-server-url)"}},
		{"proxy-two bad port", "proxy-two", map[string]string{"UPSTREAM_PORT": "70000"},
			[]string{"UPSTREAM_PORT (--upstream-port): expected a port from 1 to 65535, got '70000'"}},
	}
	for _, tc := range tests {
		for _, dry := range []bool{true, false} {
			name := tc.name
			args := []string{tc.command}
			if dry {
				name += " dry-run"
				args = append([]string{"--dry-run"}, args...)
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				env := tc.env
				if tc.env != nil { // one bad value among otherwise complete ones
					env = merge(proxyEnv(t), tc.env)
				}
				r := runScript(t, env, args...)
				if r.code != 2 {
					t.Fatalf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
				}
				if r.stdout != "" || len(r.calls) != 0 {
					t.Errorf("refused command still printed %q or ran %d ibmcloud calls", r.stdout, len(r.calls))
				}
				for _, w := range tc.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("stderr does not name %q:\n%s", w, r.stderr)
					}
				}
			})
		}
	}
}

func TestHelpListsProxyCommands(t *testing.T) {
	t.Parallel()
	r := runScript(t, nil, "--help")
	for _, c := range []string{"proxy-one", "proxy-one-update", "proxy-two", "--source-dir", "--upstream-image", "--visibility project"} {
		if !strings.Contains(r.stdout, c) {
			t.Errorf("--help does not mention %q", c)
		}
	}
}
