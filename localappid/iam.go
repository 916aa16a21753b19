package localappid

import (
	"crypto/subtle"
	"net/http"
	"time"
)

// iamAPIKeyGrant is IBM IAM's grant type for exchanging an API key.
const iamAPIKeyGrant = "urn:ibm:params:oauth:grant-type:apikey"

// iamTokenResponse is IBM IAM's token response.
type iamTokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Expiration   int64  `json:"expiration"`
	Scope        string `json:"scope"`
}

// writeIAMError writes IBM IAM's error shape.
func writeIAMError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"errorCode": code, "errorMessage": message, "context": map[string]string{}})
}

// handleIAMToken is POST /identity/token: an API key from the config becomes an opaque IAM access token that the
// management API accepts until it expires.
func (p *Provider) handleIAMToken(w http.ResponseWriter, r *http.Request) {
	if e := parsePostForm(w, r); e != nil {
		writeIAMError(w, e.status, "BXNIM0109E", "Property missing or invalid: "+e.description)
		return
	}
	grant, key := r.PostForm.Get("grant_type"), r.PostForm.Get("apikey")
	switch {
	case grant == "":
		writeIAMError(w, http.StatusBadRequest, "BXNIM0109E", "Property missing or empty. Property name(s): 'grant_type'")
		return
	case grant != iamAPIKeyGrant:
		writeIAMError(w, http.StatusBadRequest, "BXNIM0103E", "Grant type is not supported: "+grant)
		return
	case key == "":
		writeIAMError(w, http.StatusBadRequest, "BXNIM0109E", "Property missing or empty. Property name(s): 'apikey'")
		return
	case !p.knownAPIKey(key):
		writeIAMError(w, http.StatusBadRequest, "BXNIM0415E", "Provided API key could not be found")
		return
	}
	now := p.cfg.Now()
	exp := now.Add(p.cfg.IAMTokenTTL)
	token := randomToken()
	p.mu.Lock()
	added := p.iamTokens.add(now, token, exp)
	retryAfter := p.iamTokens.retryAfter(now)
	p.mu.Unlock()
	if !added {
		setRetryAfter(w, retryAfter)
		writeIAMError(w, http.StatusServiceUnavailable, "temporarily_unavailable",
			"The local IAM endpoint holds too many tokens at the moment; try again later")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, iamTokenResponse{
		AccessToken: token, RefreshToken: "not_supported", TokenType: "Bearer",
		ExpiresIn: int64(p.cfg.IAMTokenTTL / time.Second), Expiration: exp.Unix(), Scope: "ibm openid",
	})
}

// knownAPIKey compares the key with every configured key in constant time.
func (p *Provider) knownAPIKey(key string) bool {
	found := 0
	for _, k := range p.cfg.APIKeys {
		found |= subtle.ConstantTimeCompare([]byte(k), []byte(key))
	}
	return found == 1
}
