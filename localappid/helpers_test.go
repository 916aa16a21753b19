package localappid_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// newClock is a test clock at the current time, moved by hand instead of sleeping.
func newClock() *testkit.Clock { return testkit.NewClock(time.Now()) }

const (
	otherClientID     = "other-client"
	otherClientSecret = "other-secret"
	otherRedirect     = "https://other.example/cb"
	machineClientID   = "machine"
	machineSecret     = "machine-secret"
	appRedirect       = "http://127.0.0.1:5055/afterauth"
)

// testConfig is the demo config plus a second web client and a machine-only client, on the shared key and clock.
func testConfig(clk *testkit.Clock) localappid.Config {
	cfg := localappid.DefaultConfig()
	cfg.SigningKey = testkit.RSAKey()
	cfg.Now = clk.Now
	cfg.IAMTokenTTL = 30 * time.Second
	cfg.Clients = append(cfg.Clients,
		localappid.Client{ID: otherClientID, Secret: otherClientSecret, Name: "Other", RedirectURIs: []string{otherRedirect}},
		localappid.Client{ID: machineClientID, Secret: machineSecret, GrantTypes: []string{localappid.GrantClientCredentials}},
	)
	return cfg
}

// fixture is a listening provider with its clock.
type fixture struct {
	srv   *localappid.Server
	p     *localappid.Provider
	clock *testkit.Clock
	iss   string
}

func newFixture(t testing.TB, mutate ...func(*localappid.Config)) *fixture {
	t.Helper()
	clk := newClock()
	cfg := testConfig(clk)
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := localappid.Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &fixture{srv: srv, p: srv.Provider(), clock: clk, iss: srv.Provider().OAuthServerURL()}
}

// browser is an HTTP client with a cookie jar that does not follow redirects, so tests see each 302.
func browser(t testing.TB) *http.Client {
	t.Helper()
	return testkit.NewStepBrowser(t).Client
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authParams is a valid authorization request for the demo client.
func authParams(redirect, challenge string) url.Values {
	v := url.Values{
		"client_id": {localappid.DemoClientID}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {"openid"}, "state": {"st-123"}, "nonce": {"n-456"},
	}
	if challenge != "" {
		v.Set("code_challenge", challenge)
		v.Set("code_challenge_method", "S256")
	}
	return v
}

// response is a read response: status, headers and body.
type response struct {
	status int
	header http.Header
	body   string
}

func do(t testing.TB, c *http.Client, req *http.Request) response {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func get(t testing.TB, c *http.Client, u string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

// postForm posts a url-encoded body, with Basic auth when user is not empty.
func postForm(t testing.TB, c *http.Client, u string, form url.Values, user, pass string) response {
	t.Helper()
	return postRaw(t, c, u, form.Encode(), user, pass)
}

func postRaw(t testing.TB, c *http.Client, u, body, user, pass string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return do(t, c, req)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formFields returns the login page's hidden fields.
func formFields(t testing.TB, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("csrf_token") == "" {
		t.Fatalf("login page has no csrf_token:\n%s", page)
	}
	return v
}

// login runs /authorization and the form for username/password and returns the redirect back to the client.
func login(t testing.TB, f *fixture, c *http.Client, params url.Values, username, password string) *url.URL {
	t.Helper()
	page := get(t, c, f.iss+"/authorization?"+params.Encode())
	if page.status != http.StatusOK {
		t.Fatalf("GET /authorization: status %d, want 200; body %s", page.status, page.body)
	}
	form := formFields(t, page.body)
	form.Set("username", username)
	form.Set("password", password)
	res := postForm(t, c, f.iss+"/authorization", form, "", "")
	if res.status != http.StatusFound {
		t.Fatalf("POST /authorization: status %d, want 302; body %s", res.status, res.body)
	}
	loc, err := url.Parse(res.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// tokens is a decoded token endpoint answer.
type tokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
}

func decodeTokens(t testing.TB, r response) tokens {
	t.Helper()
	var tk tokens
	if err := json.Unmarshal([]byte(r.body), &tk); err != nil {
		t.Fatalf("token response %d is not JSON: %v: %s", r.status, err, r.body)
	}
	return tk
}

// codeFor logs alice (or another user) in and returns a fresh code with its PKCE verifier.
func codeFor(t testing.TB, f *fixture, username string) (code, verifier string) {
	t.Helper()
	verifier, challenge := pkce()
	loc := login(t, f, browser(t), authParams(appRedirect, challenge), username, username)
	code = loc.Query().Get("code")
	if code == "" {
		t.Fatalf("redirect %s has no code", loc)
	}
	return code, verifier
}

// exchange posts a code to /token with the demo client's Basic credentials.
func exchange(t testing.TB, f *fixture, code, verifier string) response {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appRedirect}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return postForm(t, http.DefaultClient, f.iss+"/token", form, localappid.DemoClientID, localappid.DemoClientSecret)
}

// jwtPart decodes the header (0) or claims (1) of a JWT without verifying it, to assert its shape.
func jwtPart(t testing.TB, token string, part int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS compact token: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[part])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// oauth2StaticToken adapts an access token for oidc.Provider.UserInfo.
func oauth2StaticToken(accessToken string) oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken, TokenType: "Bearer"})
}
