package localappid

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/appidgate/appidgate/internal/pages"
)

// Provider serves the App ID-compatible endpoints. Construct it with New; it is safe for concurrent use.
type Provider struct {
	cfg       Config
	oauthPath string // "/oauth/v4/{tenant}"
	mgmtPath  string // "/management/v4/{tenant}"
	mux       *http.ServeMux

	clients    map[string]*Client
	roles      []Role // with ids filled in, in config order
	roleByID   map[string]*Role
	customKeys []*rsa.PublicKey // verify custom identity assertions
	dummyHash  []byte           // compared against when the login name is unknown, so timing does not reveal users
	csrfSecret []byte

	keys     *keyRing
	notifier *notifier  // back-channel logout calls
	pages    *pages.Set // the sign-in and error pages

	// mu guards the users, userRoles and the stores. Each store holds at most cfg.StoreLimit entries, and at most
	// that many users are created at run time.
	mu           sync.Mutex
	users        map[string]*user // by id
	logins       map[string]*user // Cloud Directory users by lower-cased username and email
	customUsers  map[string]*user // custom identity users by the assertion's sub
	runtimeUsers int              // users created at run time but anonymous ones, at most cfg.StoreLimit
	anonUsers    int              // anonymous users, at most cfg.MaxAnonymousUsers
	anonAdds     int              // anonymous users created, to sweep expired ones now and then
	// anonEarliest is no later than the earliest expiry among the anonymous users: sweeping before then frees none.
	anonEarliest time.Time
	attrBytes    int64               // all users' custom attributes, at most cfg.AttributeBudget
	userRoles    map[string][]string // user id -> role ids; changed by PUT /users/{id}/roles
	codes        *expiringStore[*codeGrant]
	refresh      *expiringStore[*refreshGrant] // used ones too, until their family expires, to detect reuse
	sessions     *expiringStore[*loginSession]
	iamTokens    *expiringStore[time.Time]  // token -> expiry
	revoked      *expiringStore[time.Time]  // sha256 of a revoked access token -> its expiry
	contexts     *expiringStore[*cdContext] // Cloud Directory links and codes
	assertions   *expiringStore[time.Time]  // used custom identity assertions (iss and jti, or a hash) -> exp
	outbox       []Email                    // the emails App ID would have sent, at most maxOutbox
	outboxSeq    int
}

// New validates cfg, hashes plain passwords and generates (or takes) the first signing key. It does no network I/O.
func New(cfg Config) (*Provider, error) {
	cfg = cfg.withUserIDs()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("localappid: invalid config: %w", err)
	}
	set, perr := pages.Load(cfg.TemplatesDir)
	if perr != nil {
		return nil, fmt.Errorf("localappid: templates: %w", perr)
	}
	cfg = cfg.withDefaults()
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	p := &Provider{
		cfg:         cfg,
		pages:       set,
		oauthPath:   "/oauth/v4/" + cfg.Tenant,
		mgmtPath:    "/management/v4/" + cfg.Tenant,
		clients:     map[string]*Client{},
		users:       map[string]*user{},
		logins:      map[string]*user{},
		customUsers: map[string]*user{},
		roleByID:    map[string]*Role{},
		userRoles:   map[string][]string{},
		codes:       newExpiringStore(cfg.StoreLimit, func(g *codeGrant) time.Time { return g.expires }),
		refresh:     newExpiringStore(cfg.StoreLimit, func(g *refreshGrant) time.Time { return g.expires }),
		sessions:    newExpiringStore(cfg.StoreLimit, func(s *loginSession) time.Time { return s.expires }),
		iamTokens:   newExpiringStore(cfg.StoreLimit, func(exp time.Time) time.Time { return exp }),
		revoked:     newExpiringStore(cfg.StoreLimit, func(exp time.Time) time.Time { return exp }),
		contexts:    newExpiringStore(cfg.StoreLimit, func(c *cdContext) time.Time { return c.expires }),
		assertions:  newExpiringStore(cfg.StoreLimit, func(exp time.Time) time.Time { return exp }),
	}
	cost := cfg.PasswordHashCost
	if cost == 0 {
		cost = bcrypt.MinCost
	}
	for i := range cfg.Clients {
		c := cfg.Clients[i]
		p.clients[c.ID] = &c
	}
	roleByName := map[string]*Role{}
	for _, r := range cfg.Roles {
		if r.ID == "" {
			r.ID = derivedRoleID(r.Name)
		}
		p.roles = append(p.roles, r)
	}
	for i := range p.roles {
		p.roleByID[p.roles[i].ID] = &p.roles[i]
		roleByName[p.roles[i].Name] = &p.roles[i]
	}
	for _, u := range cfg.Users {
		hash := []byte(u.PasswordHash)
		if len(hash) == 0 {
			var err error
			if hash, err = bcrypt.GenerateFromPassword([]byte(u.Password), cost); err != nil {
				return nil, fmt.Errorf("localappid: hashing the password of user %q: %w", u.ID, err)
			}
		}
		u.Password = ""
		entry := &user{User: u, hash: hash, idp: idpCloudDirectory, attrs: map[string]string{}, confirmed: true}
		for name, value := range u.Attributes {
			b, _ := json.Marshal(value) // validate checked it marshals
			entry.attrs[name] = string(b)
			p.attrBytes += attributeSize(name, entry.attrs[name])
		}
		p.users[u.ID] = entry
		for _, login := range []string{u.Username, u.Email} {
			if login != "" {
				p.logins[strings.ToLower(login)] = entry
			}
		}
		ids := []string{}
		for _, name := range u.Roles {
			if r, ok := roleByName[name]; ok {
				ids = append(ids, r.ID)
			} else {
				ids = append(ids, name) // validate checked it is a role id
			}
		}
		p.userRoles[u.ID] = ids
	}
	for _, k := range cfg.CustomIdentity.PublicKeys {
		pub, err := parseRSAPublicKey(k) // validate checked it parses
		if err != nil {
			return nil, fmt.Errorf("localappid: custom identity key: %w", err)
		}
		p.customKeys = append(p.customKeys, pub)
	}
	var err error
	if p.dummyHash, err = bcrypt.GenerateFromPassword([]byte("not a password"), cost); err != nil {
		return nil, fmt.Errorf("localappid: hashing the dummy password: %w", err)
	}
	p.notifier = newNotifier(cfg.BackchannelLogoutTimeout, cfg.Logger)
	p.csrfSecret = make([]byte, 32)
	rand.Read(p.csrfSecret)
	if p.keys, err = newKeyRing(cfg.Tenant, cfg.SigningKey, cfg.Now); err != nil {
		return nil, err
	}
	p.routes()
	return p, nil
}

// derivedRoleID gives a role without a configured id a stable, UUID-shaped id derived from its name.
func derivedRoleID(name string) string { return uuidShaped("localappid role " + name) }

// uuidShaped hashes s into the 8-4-4-4-12 form of a UUID (version and variant bits set as a name-based UUID's).
func uuidShaped(s string) string {
	h := sha256.Sum256([]byte(s))
	h[6] = h[6]&0x0f | 0x50 // version 5-like
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// routes registers every endpoint under the tenant's paths.
func (p *Provider) routes() {
	m := http.NewServeMux()
	o, g := p.oauthPath, p.mgmtPath
	m.HandleFunc("GET "+o+"/.well-known/openid-configuration", p.handleDiscovery)
	m.HandleFunc("GET "+o+"/publickeys", p.handlePublicKeys)
	m.HandleFunc("GET "+o+"/authorization", p.handleAuthorize)
	m.HandleFunc("POST "+o+"/authorization", p.handleLogin)
	m.HandleFunc("POST "+o+"/token", p.handleToken)
	m.HandleFunc("POST "+o+"/introspect", p.handleIntrospect)
	m.HandleFunc("GET "+o+"/userinfo", p.handleUserinfo)
	m.HandleFunc("POST "+o+"/userinfo", p.handleUserinfo)
	m.HandleFunc("POST "+o+"/revoke", p.handleRevoke)
	m.HandleFunc("POST "+o+"/activity_logging", p.handleActivityLogging)
	m.HandleFunc("GET "+o+"/cloud_directory/sso/logout", p.handleLogout)
	m.HandleFunc("POST "+o+"/cloud_directory/sign_up", p.handleSignUpPage)
	m.HandleFunc("GET "+o+"/cloud_directory/verify", p.handleVerifyLink)
	m.HandleFunc("GET "+o+"/cloud_directory/forgot_password", p.handleForgotPasswordPage)
	m.HandleFunc("POST "+o+"/cloud_directory/forgot_password", p.handleForgotPasswordPost)
	m.HandleFunc("GET "+o+"/cloud_directory/reset_password", p.handleResetPage)
	m.HandleFunc("POST "+o+"/cloud_directory/reset_password", p.handleResetPost)
	m.HandleFunc("GET "+o+"/cloud_directory/change_password", p.handleChangePasswordPage)
	m.HandleFunc("POST "+o+"/cloud_directory/change_password", p.handleChangePasswordPost)
	m.HandleFunc("GET "+o+"/cloud_directory/generate_code", p.handleGenerateCode)
	m.HandleFunc("GET "+o+"/cloud_directory/change_details", p.handleChangeDetailsPage)
	m.HandleFunc("POST "+o+"/cloud_directory/change_details", p.handleChangeDetailsPost)
	m.Handle("GET "+g+"/users/{id}/roles", p.requireIAM(p.handleGetUserRoles))
	m.Handle("PUT "+g+"/users/{id}/roles", p.requireIAM(p.handlePutUserRoles))
	m.Handle("GET "+g+"/roles", p.requireIAM(p.handleGetRoles))
	m.Handle("GET "+g+"/users/{id}/profile", p.requireIAM(p.handleGetProfile))
	m.Handle("POST "+g+"/users/{id}/revoke_refresh_token", p.requireIAM(p.handleRevokeUserSessions))
	m.HandleFunc("POST /identity/token", p.handleIAMToken)
	m.Handle("POST "+g+"/cloud_directory/sign_up", p.requireIAM(p.handleCDSignUp))
	m.Handle("POST "+g+"/cloud_directory/forgot_password", p.requireIAM(p.handleCDForgotPassword))
	m.Handle("POST "+g+"/cloud_directory/resend/{template}", p.requireIAM(p.handleCDResend))
	m.Handle("POST "+g+"/cloud_directory/sign_up/confirmation_result", p.requireIAM(p.handleCDConfirmationResult(ctxVerify)))
	m.Handle("POST "+g+"/cloud_directory/forgot_password/confirmation_result", p.requireIAM(p.handleCDConfirmationResult(ctxReset)))
	m.Handle("POST "+g+"/cloud_directory/change_password", p.requireIAM(p.handleCDChangePassword))
	m.Handle("GET "+g+"/cloud_directory/Users/{id}", p.requireIAM(p.handleCDGetUser))
	m.Handle("PUT "+g+"/cloud_directory/Users/{id}", p.requireIAM(p.handleCDUpdateUser))
	m.Handle("DELETE "+g+"/cloud_directory/Users/{id}", p.requireIAM(p.handleCDDeleteUser))
	m.HandleFunc("GET /localappid/outbox", p.handleOutbox)
	m.HandleFunc("GET /api/v1/attributes", p.handleGetAttributes)
	m.HandleFunc("GET /api/v1/attributes/{name}", p.handleGetAttribute)
	m.HandleFunc("PUT /api/v1/attributes/{name}", p.handlePutAttribute)
	m.HandleFunc("DELETE /api/v1/attributes/{name}", p.handleDeleteAttribute)
	p.mux = m
}

// ServeHTTP serves the provider's endpoints.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	p.mux.ServeHTTP(w, r)
}

// OAuthServerURL is BaseURL + "/oauth/v4/" + tenant: the tokens' iss and the relying party's APPID_OAUTH_SERVER_URL.
func (p *Provider) OAuthServerURL() string { return p.cfg.BaseURL + p.oauthPath }

// ManagementURL is BaseURL + "/management/v4/" + tenant.
func (p *Provider) ManagementURL() string { return p.cfg.BaseURL + p.mgmtPath }

// IAMTokenURL is BaseURL + "/identity/token", the relying party's IAM_TOKEN_URL.
func (p *Provider) IAMTokenURL() string { return p.cfg.BaseURL + "/identity/token" }

// Tenant is the tenant id in the provider's paths and tokens.
func (p *Provider) Tenant() string { return p.cfg.Tenant }

// baseURL is the configured origin, or the request's own (http) when none is configured.
func (p *Provider) baseURL(r *http.Request) string {
	if p.cfg.BaseURL != "" {
		return p.cfg.BaseURL
	}
	return "http://" + r.Host
}

// issuer is the OAuth server URL as seen by this request: the tokens' iss.
func (p *Provider) issuer(r *http.Request) string { return p.baseURL(r) + p.oauthPath }

// secureCookies reports whether the provider's cookies need the Secure attribute.
func (p *Provider) secureCookies(r *http.Request) bool {
	return strings.HasPrefix(p.baseURL(r), "https://") || r.TLS != nil
}

// randomToken returns 32 random bytes, base64url-encoded: codes, refresh tokens, session ids, IAM tokens.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand documents it)
	return base64.RawURLEncoding.EncodeToString(b)
}
