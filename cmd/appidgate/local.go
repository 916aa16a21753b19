package main

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/proxy"
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
// APPID_REDIRECT_URI, the public URL, when localRedirectURI honours it.
func localLookup(env func(string) (string, bool), p providerURLs, port int, explicit bool) (func(string) (string, bool), []string) {
	key := make([]byte, 32)
	rand.Read(key)
	redirect, honoured := localRedirectURI(env, port, explicit)
	forced := map[string]string{
		"APPID_CLIENT_ID":          localappid.DemoClientID,
		"APPID_CLIENT_SECRET":      localappid.DemoClientSecret,
		"APPID_OAUTH_SERVER_URL":   p.OAuthServerURL(),
		"IBM_CLOUD_APIKEY":         localappid.DemoAPIKey,
		"IAM_TOKEN_URL":            p.IAMTokenURL(),
		"APPIDGATE_MANAGEMENT_URL": "",
		// The local provider's demo API key reads the roles, not a trusted profile.
		"APPIDGATE_IAM_PROFILE_ID":    "",
		"APPIDGATE_IAM_PROFILE_NAME":  "",
		"APPIDGATE_IAM_CR_TOKEN_FILE": "",
		"APPID_REDIRECT_URI":          redirect,
	}
	var ignored []string
	for name, v := range forced {
		if got, ok := env(name); ok && got != "" && got != v && !(honoured && name == "APPID_REDIRECT_URI") {
			ignored = append(ignored, name)
		}
	}
	lookup := func(name string) (string, bool) {
		if name == "APPID_REDIRECT_URI" && honoured {
			return env(name) // checked by appid.ConfigFromLookup, which names what is wrong with it
		}
		if v, ok := forced[name]; ok {
			return v, v != ""
		}
		if v, ok := env(name); ok && v != "" {
			return v, true
		}
		if name == "SESSION_SECRET_KEY" {
			return hex.EncodeToString(key), true
		}
		return "", false
	}
	return lookup, ignored
}

// localRedirectURI is the redirect URI of the app on the local provider, and whether it is the environment's
// APPID_REDIRECT_URI: that is honoured when it is the public URL of an app on this machine (an http URL on
// localhost, 127.0.0.1 or [::1], e.g. http://localhost:8090/afterauth with nginx on port 8090 in front), or of
// any host when the local provider was asked for explicitly (APPIDGATE_LOCAL_IDP, a container mapping ports,
// say). Any other value is taken for one left over from a real App ID, and http://localhost:PORT/afterauth is
// used.
func localRedirectURI(env func(string) (string, bool), port int, explicit bool) (string, bool) {
	if v, ok := env("APPID_REDIRECT_URI"); ok && v != "" {
		u, err := url.Parse(v)
		if explicit || (err == nil && u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
			return v, true
		}
	}
	return fmt.Sprintf("http://localhost:%d/afterauth", port), false
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// withPublicURL registers the app's redirect URI, and the page its logout returns to on the same origin
// (postLogoutPath, appid's default when empty), for the local provider's demo client, so that a login and a
// logout through a public URL the user chose (APPID_REDIRECT_URI) are accepted as App ID would accept
// registered ones. The caller's configuration is left as it was.
func withPublicURL(cfg localappid.Config, redirectURI, postLogoutPath string) localappid.Config {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Host == "" {
		return cfg // refused later, with the other settings
	}
	cfg.Clients = slices.Clone(cfg.Clients)
	for i, c := range cfg.Clients {
		if c.ID != localappid.DemoClientID {
			continue
		}
		logout := u.Scheme + "://" + u.Host + cmp.Or(postLogoutPath, appid.DefaultPostLogoutPath)
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		for _, add := range []string{redirectURI, logout} {
			if !slices.Contains(c.RedirectURIs, add) {
				c.RedirectURIs = append(c.RedirectURIs, add)
			}
		}
		cfg.Clients[i] = c
	}
	return cfg
}

// publicHost is the host (and port) of the app's redirect URI.
func publicHost(redirectURL string) string {
	u, err := url.Parse(redirectURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// canonicalHost redirects page requests for any other host name than that of redirectURL (the public URL) to
// it, keeping the path and query, so that a login's cookies and its callback live on one origin. Probes and
// metrics are answered on any host, and so are the forward-auth endpoints but the sign-in link, which a front
// proxy asks from its own side, with the browser's Host (nginx's proxy_set_header Host $http_host) or its own:
// a redirect there is an answer nginx cannot use (it makes a 500 of it). When that Host is not the public one,
// once, a warning says how to set the public URL.
func canonicalHost(redirectURL string, log *slog.Logger, next http.Handler) http.Handler {
	host := publicHost(redirectURL)
	var warnOnce sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Host == host || isOpsPath(r.URL.Path) || (r.Method != http.MethodGet && r.Method != http.MethodHead):
		case strings.HasPrefix(r.URL.Path, "/.appidgate/") && r.URL.Path != proxy.StartPath:
			warnOnce.Do(func() {
				msg := "forward-auth: the front proxy asks for host " + r.Host + ", not the public URL's " + host +
					": logins will come back to " + host + "; if the front proxy is the public URL, set " +
					"APPID_REDIRECT_URI to its callback, e.g. http://" + r.Host + "/afterauth"
				if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && portOf(r.Host) == portOf(local.String()) {
					// appidgate's own address: the front proxy does not pass the browser's Host on.
					msg = "forward-auth: the front proxy asks for host " + r.Host + ", appidgate's own address, not the " +
						"browser's: pass it on (nginx: proxy_set_header Host $http_host)"
				}
				log.WarnContext(r.Context(), msg, "public_url", redirectURL)
			})
		default:
			log.DebugContext(r.Context(), "local provider: redirecting to the public URL's host, where the login's cookies live",
				"host", r.Host, "public_host", host)
			http.Redirect(w, r, "http://"+host+r.URL.RequestURI(), http.StatusFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// portOf is the port of a host:port, or "" without one.
func portOf(hostport string) string {
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return ""
	}
	return p
}

func isOpsPath(p string) bool {
	return p == "/healthz" || p == "/readyz" || p == "/metrics"
}
