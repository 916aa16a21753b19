package deploy

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Distinctive values: any of them in dry-run output is a leak.
const (
	apiKey       = "APIKEY-s3cr3t-1234"
	clientID     = "client-id-0c0ffee"
	clientSecret = "CLIENT-s3cr3t-5678"
	sessionKey   = "SESSION-s3cr3t-9abc-def0"
	newKey       = "NEWSESSION-s3cr3t-1357-9bdf"
)

// secrets are the values no dry run may print.
var secrets = []string{apiKey, clientID, clientSecret, sessionKey, newKey}

// fullEnv has every value a first deployment needs.
func fullEnv() map[string]string {
	return map[string]string{
		"ICR_NAMESPACE":          "myns",
		"IBM_CLOUD_APIKEY":       apiKey,
		"APPID_CLIENT_ID":        clientID,
		"APPID_CLIENT_SECRET":    clientSecret,
		"SESSION_SECRET_KEY":     sessionKey,
		"NEW_SESSION_KEY":        newKey, // read by rotate-session-key only
		"APPID_OAUTH_SERVER_URL": "https://us-south.appid.cloud.ibm.com/oauth/v4/tenant-1",
		"APPID_REDIRECT_URI":     appURL + "/afterauth",
		"FAKE_APP_URL":           appURL, // read by the fake ibmcloud only
	}
}

// appURL is the URL the fake Code Engine gives the application.
const appURL = "https://appidgate-app.abc.us-south.codeengine.appdomain.cloud"

type result struct {
	stdout, stderr string
	code           int
	calls          [][]string // ibmcloud invocations recorded by the fake CLI
}

// assertDryRun checks what every dry run must hold: no ibmcloud call, and none of the test's secrets printed.
func assertDryRun(t *testing.T, r result) {
	t.Helper()
	if len(r.calls) != 0 {
		t.Errorf("dry run invoked ibmcloud %d times", len(r.calls))
	}
	for _, s := range secrets {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("dry-run output contains secret %q", s)
		}
	}
}

// runScript runs codeengine.sh with only the given environment (plus PATH and HOME) and a fake ibmcloud
// first on PATH that records its arguments, so nothing ever reaches IBM Cloud.
func runScript(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	if testing.Short() {
		t.Skip("runs deploy/codeengine.sh, a bash process per case; skipped with -short")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed:", err)
	}
	dir := t.TempDir()
	record := filepath.Join(dir, "calls")
	// The fake answers `application get ... --output url` with $FAKE_APP_URL, as the real CLI prints the URL,
	// and with $FAKE_UPSTREAM_URL for the app named myapp (proxy-two's upstream). `cr image-inspect` of
	// $FAKE_MISSING_IMAGE fails as for an image the registry lacks; with $FAKE_UPDATE_FAILS, an application
	// update that waits fails as for a revision that never becomes ready.
	fake := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\037' \"$a\"; done >> \"$FAKE_IBMCLOUD_LOG\"\necho >> \"$FAKE_IBMCLOUD_LOG\"\n" +
		"case \"$*\" in *'application get --name myapp --output url'*) [ -z \"$FAKE_UPSTREAM_URL\" ] || echo \"$FAKE_UPSTREAM_URL\" ;;\n" +
		"*'application get'*'--output url'*) [ -z \"$FAKE_APP_URL\" ] || echo \"$FAKE_APP_URL\" ;;\n" +
		"'cr image-inspect '*) if [ -n \"$FAKE_MISSING_IMAGE\" ] && [ \"$3\" = \"$FAKE_MISSING_IMAGE\" ]; then echo 'FAILED: image not found' >&2; exit 1; fi; echo '[{\"Id\": \"sha256:0\"}]' ;;\n" +
		"*'application update'*'--wait'*) [ -z \"$FAKE_UPDATE_FAILS\" ] || exit 1 ;; esac\n"
	if err := os.WriteFile(filepath.Join(dir, "ibmcloud"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, append([]string{"codeengine.sh"}, args...)...)
	cmd.Env = []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + dir, "FAKE_IBMCLOUD_LOG=" + record}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if b, err := os.ReadFile(record); err == nil {
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			r.calls = append(r.calls, strings.Split(strings.TrimSuffix(line, "\x1f"), "\x1f"))
		}
	}
	return r
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

const sel = "ibmcloud ce project select --name appidgate-proj"

func TestDryRunPrintsCommands(t *testing.T) {
	t.Parallel()
	const image = "us.icr.io/myns/appidgate-img:latest"
	const appCreate = "ibmcloud ce application create --name appidgate-app --image " + image +
		" --registry-secret appidgate-icr-cred --port 8080 --min-scale 0 --max-scale 10 --concurrency 100" +
		" --cpu 0.25 --memory 0.5G --probe-live type=http --probe-live path=/healthz" +
		" --probe-ready type=http --probe-ready path=/readyz --env-from-secret appidgate-app-secret" +
		" --env APPID_OAUTH_SERVER_URL=https://us-south.appid.cloud.ibm.com/oauth/v4/tenant-1" +
		" --env APPID_REDIRECT_URI=https://appidgate-app.abc.us-south.codeengine.appdomain.cloud/afterauth"
	const registry = "ibmcloud ce registry create --name appidgate-icr-cred --server us.icr.io --username iamapikey --password '***'"
	const secret = "ibmcloud ce secret create --name appidgate-app-secret --from-literal 'APPID_CLIENT_ID=***'" +
		" --from-literal 'APPID_CLIENT_SECRET=***' --from-literal 'SESSION_SECRET_KEY=***' --from-literal 'IBM_CLOUD_APIKEY=***'"
	const build = "ibmcloud ce build create --name appidgate-bld --source https://github.com/appidgate/appidgate.git" +
		" --commit main --image " + image + " --registry-secret appidgate-icr-cred --strategy dockerfile --size small"
	const buildrun = "ibmcloud ce buildrun submit --build appidgate-bld --wait"
	const url = "ibmcloud ce application get --name appidgate-app --output url"

	tests := []struct {
		name  string
		args  []string
		extra map[string]string
		want  []string
	}{
		{name: "project", args: []string{"project"}, want: []string{"ibmcloud ce project create --name appidgate-proj"}},
		{name: "project with target", args: []string{"project", "--region", "us-south", "--resource-group", "Default"},
			want: []string{"ibmcloud target -r us-south -g Default", "ibmcloud ce project create --name appidgate-proj"}},
		{name: "registry", args: []string{"registry"}, want: []string{sel, registry}},
		{name: "secret", args: []string{"secret"}, want: []string{sel, secret}},
		{name: "build", args: []string{"build"}, want: []string{sel, build}},
		{name: "buildrun", args: []string{"buildrun"}, want: []string{sel, buildrun}},
		{name: "app-create", args: []string{"app-create"}, want: []string{sel, "ibmcloud cr image-inspect " + image, appCreate}},
		{name: "app-update", args: []string{"app-update"}, want: []string{sel,
			"ibmcloud ce application update --name appidgate-app --env-from-secret appidgate-app-secret" +
				" --env APPID_OAUTH_SERVER_URL=https://us-south.appid.cloud.ibm.com/oauth/v4/tenant-1" +
				" --env APPID_REDIRECT_URI=https://appidgate-app.abc.us-south.codeengine.appdomain.cloud/afterauth"}},
		{name: "url", args: []string{"url"}, want: []string{sel, url}},
		{name: "rotate-session-key", args: []string{"rotate-session-key"}, want: []string{sel,
			"ibmcloud ce secret update --name appidgate-app-secret --from-literal 'SESSION_SECRET_KEY=***' --from-literal 'APPIDGATE_SESSION_PREVIOUS_KEYS=***'",
			"ibmcloud ce application update --name appidgate-app --wait --wait-timeout 600",
			"ibmcloud ce secret update --name appidgate-app-secret --from-literal 'SESSION_SECRET_KEY=***' --from-literal 'APPIDGATE_SESSION_PREVIOUS_KEYS=***'",
			"ibmcloud ce application update --name appidgate-app --wait --wait-timeout 600"}},
		{name: "redeploy with new tag", args: []string{"redeploy", "--image-tag", "v2"}, want: []string{sel,
			"ibmcloud ce build update --name appidgate-bld --image us.icr.io/myns/appidgate-img:v2",
			buildrun,
			"ibmcloud ce application update --name appidgate-app --image us.icr.io/myns/appidgate-img:v2"}},
		{name: "cleanup", args: []string{"cleanup"}, want: []string{sel,
			"ibmcloud ce application delete --name appidgate-app --force",
			"ibmcloud ce build delete --name appidgate-bld --force",
			"ibmcloud ce secret delete --name appidgate-app-secret --force",
			"ibmcloud ce registry delete --name appidgate-icr-cred --force",
			"ibmcloud ce project delete --name appidgate-proj --hard --force"}},
		{name: "all", args: []string{"all"}, want: []string{
			"ibmcloud ce project create --name appidgate-proj", registry, secret, build, buildrun, appCreate, url}},
		{name: "flags override environment", args: []string{"--dry-run", "--app=web", "--project", "p2", "--image", "de.icr.io/x/y:1", "buildrun"},
			extra: map[string]string{"APP_NAME": "ignored"},
			want:  []string{"ibmcloud ce project select --name p2", buildrun}},
		{name: "env values", args: []string{"url"}, extra: map[string]string{"APP_NAME": "from-env", "CE_PROJECT": "proj-env"},
			want: []string{"ibmcloud ce project select --name proj-env", "ibmcloud ce application get --name from-env --output url"}},
		{name: "quoting", args: []string{"url", "--app", "it's odd"},
			want: []string{sel, `ibmcloud ce application get --name 'it'\''s odd' --output url`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := fullEnv()
			for k, v := range tc.extra {
				env[k] = v
			}
			r := runScript(t, env, append([]string{"--dry-run"}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			if got := lines(r.stdout); !slices.Equal(got, tc.want) {
				t.Errorf("printed commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			assertDryRun(t, r)
		})
	}
}

func TestMissingValuesRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		command string
		env     map[string]string
		want    []string
	}{
		{"all", nil, []string{"ICR_NAMESPACE", "IMAGE", "IBM_CLOUD_APIKEY", "APPID_CLIENT_ID", "APPID_CLIENT_SECRET",
			"APPID_OAUTH_SERVER_URL"}},
		{"registry", nil, []string{"IBM_CLOUD_APIKEY (--apikey)"}},
		{"secret", map[string]string{"IBM_CLOUD_APIKEY": apiKey}, []string{"APPID_CLIENT_ID (--client-id)", "APPID_CLIENT_SECRET (--client-secret)"}},
		{"build", nil, []string{"ICR_NAMESPACE (--icr-namespace) or IMAGE (--image)"}},
		{"app-create", map[string]string{"IMAGE": "us.icr.io/a/b:c"}, []string{"APPID_OAUTH_SERVER_URL (--oauth-server-url)"}},
		{"app-update", nil, []string{"APPID_OAUTH_SERVER_URL", "APPID_REDIRECT_URI"}},
		{"redeploy", nil, []string{"ICR_NAMESPACE"}},
	}
	for _, tc := range tests {
		for _, dry := range []bool{true, false} {
			name := tc.command
			args := []string{tc.command}
			if dry {
				name += " dry-run"
				args = append([]string{"--dry-run"}, args...)
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				r := runScript(t, tc.env, args...)
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

// TestRunMatchesDryRun runs every step against the fake CLI and checks that it receives exactly what the
// dry run printed, secrets included in the real call only.
func TestRunMatchesDryRun(t *testing.T) {
	t.Parallel()
	for _, command := range []string{"all", "app-create", "app-update", "redeploy", "rotate-session-key", "cleanup"} {
		t.Run(command, func(t *testing.T) {
			t.Parallel()
			dry := runScript(t, fullEnv(), "--dry-run", command)
			real := runScript(t, fullEnv(), command)
			if real.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", real.code, real.stderr)
			}
			printed := lines(dry.stdout)
			if len(real.calls) != len(printed) {
				t.Fatalf("ran %d commands, dry run printed %d", len(real.calls), len(printed))
			}
			for i, call := range real.calls {
				// redeploy's default tag is the current second: the two runs may straddle one.
				got := timestampTag.ReplaceAllString("ibmcloud "+strings.Join(maskForCompare(call), " "), ":TAG")
				if want := timestampTag.ReplaceAllString(unquote(printed[i]), ":TAG"); got != want {
					t.Errorf("command %d ran:\n%s\ndry run printed:\n%s", i, got, printed[i])
				}
			}
			if command == "all" {
				joined := strings.Join(slices.Concat(real.calls...), " ")
				for _, s := range []string{apiKey, clientID, clientSecret, sessionKey} {
					if !strings.Contains(joined, s) {
						t.Errorf("real run never passed %q to ibmcloud", s)
					}
				}
			}
		})
	}
}

// maskForCompare masks the known secrets as the script does, for comparison with dry-run output.
func maskForCompare(args []string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		for _, s := range secrets {
			if a == s {
				out[i] = "***"
			} else if k, v, ok := strings.Cut(a, "="); ok && v == s {
				out[i] = k + "=***"
			}
		}
	}
	return out
}

// unquote drops the single quotes the script adds around words with special characters.
func unquote(s string) string { return strings.ReplaceAll(s, "'", "") }

func TestSessionKeyGenerated(t *testing.T) {
	t.Parallel()
	env := fullEnv()
	delete(env, "SESSION_SECRET_KEY")
	r := runScript(t, env, "secret")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "SESSION_SECRET_KEY not set: generated") {
		t.Errorf("stderr does not say the key was generated:\n%s", r.stderr)
	}
	var key string
	for _, a := range slices.Concat(r.calls...) {
		if v, ok := strings.CutPrefix(a, "SESSION_SECRET_KEY="); ok {
			key = v
		}
	}
	if len(key) < 32 {
		t.Fatalf("generated SESSION_SECRET_KEY %q is shorter than 32 characters", key)
	}
	if strings.Contains(r.stdout+r.stderr, key) {
		t.Error("generated key was printed")
	}
	again := runScript(t, env, "secret")
	for _, a := range slices.Concat(again.calls...) {
		if a == "SESSION_SECRET_KEY="+key {
			t.Error("two runs generated the same key")
		}
	}
}

func TestHelpAndBadUsage(t *testing.T) {
	t.Parallel()
	r := runScript(t, nil, "--help")
	if r.code != 0 {
		t.Fatalf("--help exit %d", r.code)
	}
	for _, c := range []string{"project", "registry", "secret", "build", "buildrun", "app-create", "app-update", "redeploy", "cleanup", "all", "bind", "--dry-run", "--service-instance", "--service-role"} {
		if !strings.Contains(r.stdout, "  "+c+" ") {
			t.Errorf("--help does not list %q", c)
		}
	}
	for _, args := range [][]string{{}, {"deploy-everything"}, {"--no-such-flag", "x", "all"}, {"all", "--app"}} {
		r := runScript(t, fullEnv(), args...)
		if r.code != 2 || len(r.calls) != 0 {
			t.Errorf("args %q: exit %d with %d calls, want 2 and none", args, r.code, len(r.calls))
		}
	}
}

// timestampTag matches the image tag redeploy picks by default: the UTC time as yyyymmdd-HHMMSS.
var timestampTag = regexp.MustCompile(`:[0-9]{8}-[0-9]{6}\b`)

// withoutRedirectURI is fullEnv for a first deployment: the app URL, hence the redirect URI, is not known yet.
func withoutRedirectURI() map[string]string {
	env := fullEnv()
	delete(env, "APPID_REDIRECT_URI")
	return env
}

// registerHint is what the script says once it knows the URL: both paths App ID must have registered.
const registerHint = "register " + appURL + "/afterauth and " + appURL + "/noauth_route as redirect URIs in App ID"

func TestFirstDeploymentDryRun(t *testing.T) {
	t.Parallel()
	const image = "us.icr.io/myns/appidgate-img:latest"
	// Without a redirect URI the app cannot become ready, so create does not wait for it.
	const appCreate = "ibmcloud ce application create --name appidgate-app --image " + image +
		" --registry-secret appidgate-icr-cred --port 8080 --min-scale 0 --max-scale 10 --concurrency 100" +
		" --cpu 0.25 --memory 0.5G --probe-live type=http --probe-live path=/healthz" +
		" --probe-ready type=http --probe-ready path=/readyz --env-from-secret appidgate-app-secret" +
		" --env APPID_OAUTH_SERVER_URL=https://us-south.appid.cloud.ibm.com/oauth/v4/tenant-1 --no-wait"
	const url = "ibmcloud ce application get --name appidgate-app --output url"
	// The dry run cannot know the URL: the printed line fetches it when pasted into a shell.
	const appUpdate = "ibmcloud ce application update --name appidgate-app --env-from-secret appidgate-app-secret" +
		" --env APPID_OAUTH_SERVER_URL=https://us-south.appid.cloud.ibm.com/oauth/v4/tenant-1" +
		` --env "APPID_REDIRECT_URI=$(` + url + `)/afterauth"`

	tests := []struct {
		name       string
		args       []string
		want       []string // printed commands after the steps before app-create
		wantStderr []string
	}{
		{name: "all", args: []string{"all"}, want: []string{appCreate, url, appUpdate},
			wantStderr: []string{"<app-url>", "register <app-url>/afterauth and <app-url>/noauth_route as redirect URIs in App ID"}},
		{name: "app-create", args: []string{"app-create"}, want: []string{sel, "ibmcloud cr image-inspect " + image, appCreate},
			wantStderr: []string{"APPID_REDIRECT_URI not set", "app-update --redirect-uri", "/noauth_route"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runScript(t, withoutRedirectURI(), append([]string{"--dry-run"}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			got := lines(r.stdout)
			if len(got) < len(tc.want) || !slices.Equal(got[len(got)-len(tc.want):], tc.want) {
				t.Errorf("printed commands:\n%s\nwant them to end with:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
			if len(r.calls) != 0 {
				t.Errorf("dry run invoked ibmcloud %d times", len(r.calls))
			}
		})
	}
}

// TestAllDerivesRedirectURI runs `all` against the fake CLI on a first deployment: the script reads the
// URL Code Engine gave the app and sets APPID_REDIRECT_URI from it.
func TestAllDerivesRedirectURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		env        map[string]string
		wantCode   int
		wantUpdate string // the APPID_REDIRECT_URI the last call sets; "" for no app update at all
		wantStderr string
	}{
		{name: "derived", env: withoutRedirectURI(), wantUpdate: "APPID_REDIRECT_URI=" + appURL + "/afterauth",
			wantStderr: registerHint},
		{name: "URL with trailing slash", env: merge(withoutRedirectURI(), map[string]string{"FAKE_APP_URL": appURL + "/"}),
			wantUpdate: "APPID_REDIRECT_URI=" + appURL + "/afterauth", wantStderr: registerHint},
		{name: "URL among other output", env: merge(withoutRedirectURI(), map[string]string{"FAKE_APP_URL": "Getting...\n" + appURL + "\nOK"}),
			wantUpdate: "APPID_REDIRECT_URI=" + appURL + "/afterauth", wantStderr: registerHint},
		{name: "given redirect URI needs no update", env: fullEnv(), wantStderr: registerHint},
		{name: "given redirect URI on another host", env: merge(fullEnv(), map[string]string{
			"APPID_REDIRECT_URI": "https://appidgate-app.guess.us-south.codeengine.appdomain.cloud/afterauth"}),
			wantStderr: "does not start with the application URL " + appURL},
		{name: "URL never known", env: merge(withoutRedirectURI(), map[string]string{"FAKE_APP_URL": "", "URL_WAIT_SECONDS": "0"}),
			wantCode: 1, wantStderr: "no URL for application appidgate-app"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runScript(t, tc.env, "all")
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tc.wantCode, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.wantStderr) {
				t.Errorf("stderr does not say %q:\n%s", tc.wantStderr, r.stderr)
			}
			if len(r.calls) == 0 {
				t.Fatal("no ibmcloud calls")
			}
			last := r.calls[len(r.calls)-1]
			isUpdate := len(last) > 3 && slices.Equal(last[:3], []string{"ce", "application", "update"})
			switch {
			case tc.wantUpdate == "" && isUpdate:
				t.Errorf("last call updates the app: %q", last)
			case tc.wantUpdate != "" && (!isUpdate || !slices.Contains(last, tc.wantUpdate)):
				t.Errorf("last call %q, want an application update with %q", last, tc.wantUpdate)
			}
			if tc.wantCode == 0 && !strings.Contains(r.stdout, appURL) {
				t.Errorf("stdout does not show the application URL:\n%s", r.stdout)
			}
		})
	}
}

func merge(base, extra map[string]string) map[string]string {
	for k, v := range extra {
		base[k] = v
	}
	return base
}

func TestURLNamesBothRedirectURIs(t *testing.T) {
	t.Parallel()
	help := runScript(t, nil, "--help")
	for _, line := range lines(help.stdout) {
		if strings.Contains(line, "/afterauth") && !strings.Contains(line, "/noauth_route") {
			t.Errorf("--help names /afterauth without /noauth_route: %q", line)
		}
	}
	real := runScript(t, fullEnv(), "url")
	if real.code != 0 || real.stdout != appURL+"\n" {
		t.Errorf("url: exit %d, stdout %q, want the URL alone", real.code, real.stdout)
	}
	if !strings.Contains(real.stderr, registerHint) {
		t.Errorf("url stderr does not say %q:\n%s", registerHint, real.stderr)
	}
	dry := runScript(t, fullEnv(), "--dry-run", "url")
	if !strings.Contains(dry.stderr, "<app-url>/noauth_route") {
		t.Errorf("url --dry-run stderr does not name <app-url>/noauth_route:\n%s", dry.stderr)
	}
}

func TestInvalidNumbersRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"negative min-scale", map[string]string{"MIN_SCALE": "-1"}, []string{"MIN_SCALE (--min-scale)", "'-1'"}},
		{"word max-scale", map[string]string{"MAX_SCALE": "ten"}, []string{"MAX_SCALE (--max-scale)", "'ten'"}},
		{"fraction concurrency", map[string]string{"CONCURRENCY": "1.5"}, []string{"CONCURRENCY (--concurrency)", "'1.5'"}},
		{"huge concurrency", map[string]string{"CONCURRENCY": "99999999999999999999"}, []string{"CONCURRENCY (--concurrency)"}},
		{"cpu word", map[string]string{"CPU": "half"}, []string{"CPU (--cpu)", "'half'"}},
		{"cpu zero", map[string]string{"CPU": "0"}, []string{"CPU (--cpu)"}},
		{"memory without unit", map[string]string{"MEMORY": "512"}, []string{"MEMORY (--memory)", "'512'"}},
		{"min above max", map[string]string{"MIN_SCALE": "5", "MAX_SCALE": "2"}, []string{"MIN_SCALE (--min-scale)", "MAX_SCALE"}},
		{"with a missing value", map[string]string{"MIN_SCALE": "x", "APPID_OAUTH_SERVER_URL": ""},
			[]string{"MIN_SCALE (--min-scale)", "APPID_OAUTH_SERVER_URL (--oauth-server-url)"}},
	}
	for _, tc := range tests {
		for _, command := range []string{"app-create", "all"} {
			t.Run(tc.name+" "+command, func(t *testing.T) {
				t.Parallel()
				r := runScript(t, merge(fullEnv(), tc.env), command)
				if r.code != 2 {
					t.Fatalf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
				}
				if r.stdout != "" || len(r.calls) != 0 {
					t.Errorf("refused command still printed %q or ran %d ibmcloud calls", r.stdout, len(r.calls))
				}
				if n := strings.Count(r.stderr, "missing or invalid"); n != 1 {
					t.Errorf("stderr has %d 'missing or invalid' messages, want one:\n%s", n, r.stderr)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("stderr does not name %q:\n%s", w, r.stderr)
					}
				}
			})
		}
	}
	// Values Code Engine accepts pass: max-scale 0 means no limit; M and G (or Mi and Gi) units.
	for _, env := range []map[string]string{
		{"MIN_SCALE": "3", "MAX_SCALE": "0", "CONCURRENCY": "1", "CPU": "1", "MEMORY": "512M"},
		{"MIN_SCALE": "1", "MAX_SCALE": "1", "CPU": "0.125", "MEMORY": "2Gi"},
	} {
		r := runScript(t, merge(fullEnv(), env), "--dry-run", "app-create")
		if r.code != 0 {
			t.Errorf("%v refused: exit %d, stderr:\n%s", env, r.code, r.stderr)
		}
	}
}

func TestRedeployNewTagEachTime(t *testing.T) {
	t.Parallel()
	r := runScript(t, fullEnv(), "--dry-run", "redeploy")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	tag := strings.TrimPrefix(timestampTag.FindString(r.stdout), ":")
	if tag == "" {
		t.Fatalf("redeploy without --image-tag did not pick a timestamp tag:\n%s", r.stdout)
	}
	image := "us.icr.io/myns/appidgate-img:" + tag
	want := []string{sel,
		"ibmcloud ce build update --name appidgate-bld --image " + image,
		"ibmcloud ce buildrun submit --build appidgate-bld --wait",
		"ibmcloud ce application update --name appidgate-app --image " + image}
	if got := lines(r.stdout); !slices.Equal(got, want) {
		t.Errorf("printed commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(r.stderr, "image tag "+tag) {
		t.Errorf("stderr does not say which tag it used (%s):\n%s", tag, r.stderr)
	}
	// An explicit image is used as given.
	own := runScript(t, merge(fullEnv(), map[string]string{"IMAGE": "de.icr.io/ns/img:v7"}), "--dry-run", "redeploy")
	if !strings.HasSuffix(own.stdout, "--image de.icr.io/ns/img:v7\n") {
		t.Errorf("redeploy with IMAGE set printed:\n%s", own.stdout)
	}
}

// bindingEnv is fullEnv for App ID bound to the app (--service-instance): no App ID credentials or URL.
func bindingEnv() map[string]string {
	env := fullEnv()
	for _, k := range []string{"APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "APPID_OAUTH_SERVER_URL"} {
		delete(env, k)
	}
	env["APPID_SERVICE_INSTANCE"] = "my-appid"
	return env
}

func TestBindingDryRun(t *testing.T) {
	t.Parallel()
	const image = "us.icr.io/myns/appidgate-img:latest"
	const bind = "ibmcloud ce application bind --name appidgate-app --service-instance my-appid"
	const secret = "ibmcloud ce secret create --name appidgate-app-secret --from-literal 'SESSION_SECRET_KEY=***'"
	// No APPID_OAUTH_SERVER_URL, and no waiting: the app starts once bound.
	const appCreate = "ibmcloud ce application create --name appidgate-app --image " + image +
		" --registry-secret appidgate-icr-cred --port 8080 --min-scale 0 --max-scale 10 --concurrency 100" +
		" --cpu 0.25 --memory 0.5G --probe-live type=http --probe-live path=/healthz" +
		" --probe-ready type=http --probe-ready path=/readyz --env-from-secret appidgate-app-secret" +
		" --env APPID_REDIRECT_URI=" + appURL + "/afterauth --no-wait"
	const url = "ibmcloud ce application get --name appidgate-app --output url"
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		want       []string
		wantStderr []string
	}{
		{name: "bind", args: []string{"bind"}, env: bindingEnv(), want: []string{sel, bind},
			wantStderr: []string{"App ID settings read from CE_SERVICES binding my-appid", "all unset on the app"}},
		{name: "bind from flags with a role", args: []string{"bind", "--app", "web", "--service-instance", "App ID-yn", "--service-role", "Manager"},
			env:  map[string]string{},
			want: []string{sel, "ibmcloud ce application bind --name web --service-instance 'App ID-yn' --role Manager"}},
		{name: "bind ignores App ID values it does not pass", args: []string{"bind"}, env: merge(fullEnv(), map[string]string{"APPID_SERVICE_INSTANCE": "my-appid"}),
			want: []string{sel, bind}},
		{name: "secret holds the session key only", args: []string{"secret"}, env: bindingEnv(), want: []string{sel, secret}},
		{name: "app-create", args: []string{"app-create"}, env: bindingEnv(), want: []string{sel, "ibmcloud cr image-inspect " + image, appCreate},
			wantStderr: []string{"'codeengine.sh bind --app appidgate-app --service-instance my-appid'"}},
		{name: "app-update", args: []string{"app-update"}, env: bindingEnv(), want: []string{sel,
			"ibmcloud ce application update --name appidgate-app --env-from-secret appidgate-app-secret" +
				" --env APPID_REDIRECT_URI=" + appURL + "/afterauth"}},
		{name: "all binds last", args: []string{"all"}, env: bindingEnv(), want: []string{
			"ibmcloud ce project create --name appidgate-proj",
			"ibmcloud ce registry create --name appidgate-icr-cred --server us.icr.io --username iamapikey --password '***'",
			secret,
			"ibmcloud ce build create --name appidgate-bld --source https://github.com/appidgate/appidgate.git" +
				" --commit main --image " + image + " --registry-secret appidgate-icr-cred --strategy dockerfile --size small",
			"ibmcloud ce buildrun submit --build appidgate-bld --wait",
			appCreate, url, bind}},
		{name: "all on a first deployment sets the redirect URI, then binds", args: []string{"all"},
			env: func() map[string]string { e := bindingEnv(); delete(e, "APPID_REDIRECT_URI"); return e }(),
			want: []string{strings.TrimSuffix(appCreate, " --env APPID_REDIRECT_URI="+appURL+"/afterauth --no-wait") + " --no-wait", url,
				"ibmcloud ce application update --name appidgate-app --env-from-secret appidgate-app-secret --no-wait" +
					` --env "APPID_REDIRECT_URI=$(` + url + `)/afterauth"`,
				bind}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runScript(t, tc.env, append([]string{"--dry-run"}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			got := lines(r.stdout)
			if len(got) < len(tc.want) || !slices.Equal(got[len(got)-len(tc.want):], tc.want) {
				t.Errorf("printed commands:\n%s\nwant them to end with:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
			assertDryRun(t, r)
		})
	}
}

// TestBindingRunMatchesDryRun runs `all` and `bind` against the fake CLI: the calls are the printed ones, and
// the App ID credentials the binding brings reach Code Engine in no call.
func TestBindingRunMatchesDryRun(t *testing.T) {
	t.Parallel()
	for _, command := range []string{"all", "bind"} {
		t.Run(command, func(t *testing.T) {
			t.Parallel()
			dry := runScript(t, bindingEnv(), "--dry-run", command)
			real := runScript(t, bindingEnv(), command)
			if real.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", real.code, real.stderr)
			}
			printed := lines(dry.stdout)
			if len(real.calls) != len(printed) {
				t.Fatalf("ran %d commands, dry run printed %d", len(real.calls), len(printed))
			}
			for i, call := range real.calls {
				if got, want := "ibmcloud "+strings.Join(maskForCompare(call), " "), unquote(printed[i]); got != want {
					t.Errorf("command %d ran:\n%s\ndry run printed:\n%s", i, got, printed[i])
				}
			}
			last := real.calls[len(real.calls)-1]
			if !slices.Equal(last, []string{"ce", "application", "bind", "--name", "appidgate-app", "--service-instance", "my-appid"}) {
				t.Errorf("last call %q, want the bind", last)
			}
			for _, call := range real.calls {
				for _, a := range call {
					if strings.HasPrefix(a, "APPID_CLIENT") || strings.HasPrefix(a, "APPID_OAUTH_SERVER_URL") ||
						strings.HasPrefix(a, "IBM_CLOUD_APIKEY=") {
						t.Errorf("call %q passes %s: the binding brings it", call, a)
					}
				}
			}
		})
	}
}

func TestBindingRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		command string
		env     map[string]string
		want    []string
	}{
		{"bind without an instance", "bind", map[string]string{}, []string{"APPID_SERVICE_INSTANCE (--service-instance): missing"}},
		{"secret with App ID credentials too", "secret", merge(bindingEnv(), map[string]string{"APPID_CLIENT_ID": clientID}),
			[]string{"APPID_CLIENT_ID (--client-id): set together with APPID_SERVICE_INSTANCE (--service-instance)"}},
		{"all with every App ID value too", "all", merge(fullEnv(), map[string]string{"APPID_SERVICE_INSTANCE": "my-appid"}),
			[]string{"APPID_CLIENT_ID (--client-id)", "APPID_CLIENT_SECRET (--client-secret)", "APPID_OAUTH_SERVER_URL (--oauth-server-url)"}},
		{"app-create with the URL too", "app-create", merge(bindingEnv(), map[string]string{"APPID_OAUTH_SERVER_URL": "https://x/oauth/v4/t", "CPU": "lots"}),
			[]string{"APPID_OAUTH_SERVER_URL (--oauth-server-url): set together", "CPU (--cpu)"}},
		{"proxy-two with the URL too", "proxy-two", merge(bindingEnv(), map[string]string{"APPID_OAUTH_SERVER_URL": "https://x/oauth/v4/t", "UPSTREAM_IMAGE": "icr.io/a/b"}),
			[]string{"APPID_OAUTH_SERVER_URL (--oauth-server-url): set together"}},
	}
	for _, tc := range tests {
		for _, dry := range []bool{true, false} {
			args := []string{tc.command}
			name := tc.name
			if dry {
				args = append([]string{"--dry-run"}, args...)
				name += " dry-run"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				r := runScript(t, tc.env, args...)
				if r.code != 2 {
					t.Fatalf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
				}
				if r.stdout != "" || len(r.calls) != 0 {
					t.Errorf("refused command still printed %q or ran %d ibmcloud calls", r.stdout, len(r.calls))
				}
				if n := strings.Count(r.stderr, "missing or invalid"); n != 1 {
					t.Errorf("stderr has %d 'missing or invalid' messages, want one:\n%s", n, r.stderr)
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
