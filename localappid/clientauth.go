package localappid

import (
	"crypto/subtle"
	"net/http"
	"net/url"
)

// authenticateClient checks client credentials from HTTP Basic (client_secret_basic) or from the body
// (client_secret_post); using both at once is refused. The body must already be read.
//
// Basic credentials are form-url-encoded first by RFC 6749 section 2.3.1, but IBM's SDKs send them as they are;
// App ID takes both, so a credential matches either as sent or decoded.
func (p *Provider) authenticateClient(r *http.Request) (*Client, *oauthError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		if r.PostForm.Has("client_secret") {
			return nil, invalidRequest("client authenticated by both Basic and client_secret")
		}
		c := p.matchClient(id, secret)
		if c == nil {
			decodedID, err1 := url.QueryUnescape(id)
			decodedSecret, err2 := url.QueryUnescape(secret)
			if err1 == nil && err2 == nil && (decodedID != id || decodedSecret != secret) {
				c = p.matchClient(decodedID, decodedSecret)
			}
		}
		if c == nil {
			return nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "unknown client or wrong secret", basicAuth: true}
		}
		if formID := r.PostForm.Get("client_id"); formID != "" && formID != c.ID {
			return nil, invalidRequest("client_id in the form differs from the authenticated client")
		}
		return c, nil
	}
	id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if id == "" {
		return nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "client authentication required", basicAuth: true}
	}
	c := p.matchClient(id, secret)
	if c == nil {
		return nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "unknown client or wrong secret"}
	}
	return c, nil
}

// matchClient returns the client with this id when the secret matches (compared in constant time), else nil.
func (p *Provider) matchClient(id, secret string) *Client {
	c := p.clients[id]
	if c == nil || subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
		return nil
	}
	return c
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

// clientRequest reads the body of a client-authenticated endpoint (token, introspect, revoke) and authenticates
// the client; on failure it has answered with the OAuth error and returns false.
func (p *Provider) clientRequest(w http.ResponseWriter, r *http.Request) (*Client, bool) {
	if e := readClientBody(w, r); e != nil {
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
