package localappid

import (
	"crypto/subtle"
	"net/http"
	"net/url"
)

// authenticateClient checks client credentials from HTTP Basic (client_secret_basic) or from the form
// (client_secret_post); using both at once is refused. The form must already be parsed.
func (p *Provider) authenticateClient(r *http.Request) (*Client, *oauthError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 section 2.3.1: Basic credentials are form-url-encoded first.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "malformed Basic credentials", basicAuth: true}
		}
		if r.PostForm.Has("client_secret") {
			return nil, invalidRequest("client authenticated by both Basic and client_secret")
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		if id == "" {
			return nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "client authentication required", basicAuth: true}
		}
	}
	if formID := r.PostForm.Get("client_id"); basic && formID != "" && formID != id {
		return nil, invalidRequest("client_id in the form differs from the authenticated client")
	}
	c := p.clients[id]
	if c == nil || subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
		return nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "unknown client or wrong secret", basicAuth: basic}
	}
	return c, nil
}

// allowsGrant reports whether the client may use a grant type.
func (c *Client) allowsGrant(grant string) bool {
	if len(c.GrantTypes) == 0 {
		return true
	}
	for _, g := range c.GrantTypes {
		if g == grant {
			return true
		}
	}
	return false
}

// clientRequest reads the form of a client-authenticated endpoint (token, introspect, revoke) and authenticates
// the client; on failure it has answered with the OAuth error and returns false.
func (p *Provider) clientRequest(w http.ResponseWriter, r *http.Request) (*Client, bool) {
	if e := parsePostForm(w, r); e != nil {
		writeOAuthError(w, e)
		return nil, false
	}
	client, e := p.authenticateClient(r)
	if e != nil {
		writeOAuthError(w, e)
		return nil, false
	}
	return client, true
}
