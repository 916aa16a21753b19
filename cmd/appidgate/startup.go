package main

import (
	"net/url"

	"github.com/appidgate/appidgate/internal/buildinfo"
)

// logStarted writes the one INFO line that says a serving command is up and with what: the build, where it
// listens and is reached, the provider, the session store, where /metrics is served, then the command's own
// attrs. The explanations behind these choices are logged at DEBUG.
func (rp *relyingParty) logStarted(command, publicURL string, attrs ...any) {
	b := buildinfo.Read()
	provider := rp.cfg.Provider
	if rp.local {
		provider = "local"
	}
	sessions := "cookie"
	if rp.redis.URL != "" {
		sessions = "redis"
	}
	metricsAt := "/metrics"
	if rp.opts.metricsAddr != "" {
		metricsAt = rp.opts.metricsAddr
	}
	summary := []any{"version", b.Version, "commit", b.Commit(), "listen", rp.ln.Addr().String(),
		"public_url", redacted(publicURL), "provider", provider, "issuer", redacted(rp.cfg.OAuthServerURL),
		"sessions", sessions, "metrics", metricsAt}
	rp.opts.logger.Info("appidgate "+command+" started", append(summary, attrs...)...)
}

// redacted is rawURL with any password replaced by "xxxxx".
func redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(not a URL)"
	}
	return u.Redacted()
}
