package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/appidgate/appidgate/localappid"
)

// providerURLs is what the app needs to know of where a provider is.
type providerURLs interface {
	OAuthServerURL() string
	IAMTokenURL() string
}

// placeholderProvider stands in for the local provider while settings are checked, before it starts.
var placeholderProvider providerURLs = fixedURLs{"http://127.0.0.1/oauth/v4/local-tenant", "http://127.0.0.1/identity/token"}

type fixedURLs struct{ oauth, iam string }

func (f fixedURLs) OAuthServerURL() string { return f.oauth }
func (f fixedURLs) IAMTokenURL() string    { return f.iam }

// localLookup returns the settings lookup for a demo on the local provider p, with the app on port. The
// provider's own values win over the environment for everything that names App ID, so that variables left over
// from a real App ID setup cannot point the app at a client or key the local provider does not know; those are
// returned as ignored. The session keys and every APPIDGATE_ option still come from the environment, and so does
// APPID_REDIRECT_URI when the local provider was asked for explicitly (a container mapping ports, say).
func localLookup(env func(string) (string, bool), p providerURLs, port int, explicit bool) (func(string) (string, bool), []string) {
	key := make([]byte, 32)
	rand.Read(key)
	forced := map[string]string{
		"APPID_CLIENT_ID":          localappid.DemoClientID,
		"APPID_CLIENT_SECRET":      localappid.DemoClientSecret,
		"APPID_OAUTH_SERVER_URL":   p.OAuthServerURL(),
		"IBM_CLOUD_APIKEY":         localappid.DemoAPIKey,
		"IAM_TOKEN_URL":            p.IAMTokenURL(),
		"APPIDGATE_MANAGEMENT_URL": "",
	}
	defaults := map[string]string{
		"APPID_REDIRECT_URI": fmt.Sprintf("http://localhost:%d/afterauth", port),
		"SESSION_SECRET_KEY": hex.EncodeToString(key),
	}
	if explicit {
		forced["APPID_REDIRECT_URI"] = ""
	} else {
		forced["APPID_REDIRECT_URI"] = defaults["APPID_REDIRECT_URI"]
	}
	var ignored []string
	for name, v := range forced {
		if got, ok := env(name); ok && got != "" && got != v && !(explicit && name == "APPID_REDIRECT_URI") {
			ignored = append(ignored, name)
		}
	}
	lookup := func(name string) (string, bool) {
		if v, ok := forced[name]; ok && !(explicit && name == "APPID_REDIRECT_URI") {
			return v, v != ""
		}
		if v, ok := env(name); ok && v != "" {
			return v, true
		}
		v, ok := defaults[name]
		return v, ok
	}
	return lookup, ignored
}

// canonicalHost redirects page requests for any other host name to host, keeping the path and query, so that a
// login's cookies and its callback live on one origin. Probes and metrics are answered on any host.
func canonicalHost(host string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == host || isOpsPath(r.URL.Path) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		http.Redirect(w, r, "http://"+host+r.URL.RequestURI(), http.StatusFound)
	})
}

func isOpsPath(p string) bool {
	return p == "/healthz" || p == "/readyz" || p == "/metrics"
}
