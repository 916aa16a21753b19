package localappid

import (
	"crypto/subtle"
	"net/http"
	"time"
)

// iamAPIKeyGrant is IBM IAM's grant type for exchanging an API key.
const iamAPIKeyGrant = "urn:ibm:params:oauth:grant-type:apikey"

// iamCRTokenGrant is IBM IAM's grant type for a compute resource assuming a trusted profile.
const iamCRTokenGrant = "urn:ibm:params:oauth:grant-type:cr-token"

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

// handleIAMToken is POST /identity/token: an API key from the config, or a compute-resource token that a
// configured trusted profile trusts, becomes an opaque IAM access token that the management API accepts until
// it expires.
func (p *Provider) handleIAMToken(w http.ResponseWriter, r *http.Request) {
	if e := parsePostForm(w, r); e != nil {
		writeIAMError(w, e.status, "BXNIM0109E", "Property missing or invalid: "+e.description)
		return
	}
	switch grant := r.PostForm.Get("grant_type"); grant {
	case "":
		writeIAMError(w, http.StatusBadRequest, "BXNIM0109E", "Property missing or empty. Property name(s): 'grant_type'")
	case iamAPIKeyGrant:
		switch key := r.PostForm.Get("apikey"); {
		case key == "":
			writeIAMError(w, http.StatusBadRequest, "BXNIM0109E", "Property missing or empty. Property name(s): 'apikey'")
		case !p.knownAPIKey(key):
			writeIAMError(w, http.StatusBadRequest, "BXNIM0415E", "Provided API key could not be found")
		default:
			p.issueIAMToken(w)
		}
	case iamCRTokenGrant:
		cr, id, name := r.PostForm.Get("cr_token"), r.PostForm.Get("profile_id"), r.PostForm.Get("profile_name")
		switch {
		case cr == "":
			writeIAMError(w, http.StatusBadRequest, "BXNIM0109E", "Property missing or empty. Property name(s): 'cr_token'")
		case id == "" && name == "":
			writeIAMError(w, http.StatusBadRequest, "BXNIM0109E",
				"Property missing or empty. Property name(s): 'profile_id', 'profile_name'")
		case !p.trustedCRToken(id, name, cr):
			// The error code is this emulator's own: the refusal's shape is IAM's, its code is not documented.
			writeIAMError(w, http.StatusBadRequest, "localappid_untrusted_cr_token",
				"The compute resource token is not trusted by the trusted profile")
		default:
			p.issueIAMToken(w)
		}
	default:
		writeIAMError(w, http.StatusBadRequest, "BXNIM0103E", "Grant type is not supported: "+grant)
	}
}

// issueIAMToken answers with a new IAM access token.
func (p *Provider) issueIAMToken(w http.ResponseWriter) {
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

// trustedCRToken reports whether the profile named by id or name (both must match when both are given) trusts
// the compute-resource token cr, comparing tokens in constant time.
func (p *Provider) trustedCRToken(id, name, cr string) bool {
	found := 0
	for _, tp := range p.cfg.TrustedProfiles {
		if (id == "" || id == tp.ID) && (name == "" || name == tp.Name) {
			for _, t := range tp.CRTokens {
				found |= subtle.ConstantTimeCompare([]byte(t), []byte(cr))
			}
		}
	}
	return found == 1
}
