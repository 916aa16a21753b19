package appid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/internal/answer"
	"github.com/appidgate/appidgate/internal/audit"
	"github.com/appidgate/appidgate/internal/expiring"
)

// OpenID Connect Back-Channel Logout 1.0: the provider POSTs a signed logout token naming one of its sessions
// (sid) or a user (sub), and the app's sessions it names end.

const (
	// DefaultBackchannelLogoutPath is where Mount serves back-channel logout when Config.BackchannelLogoutPath is
	// empty.
	DefaultBackchannelLogoutPath = "/backchannel_logout"
	// backchannelLogoutOff in Config.BackchannelLogoutPath serves no back-channel logout.
	backchannelLogoutOff = "off"
	// backchannelLogoutEvent is the member of a logout token's events claim that makes it one.
	backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

	// maxBackchannelForm bounds the body of a back-channel logout request: one logout token, about 1 KB.
	maxBackchannelForm = 16 << 10
	// logoutTokenMaxAge is how long after its iat a logout token without exp is accepted (the specification
	// asks for exp and recommends two minutes; providers that implemented its drafts send none), so that a
	// replayed token is refused for as long as it is accepted.
	logoutTokenMaxAge = 5 * time.Minute
	// maxLogoutTokens bounds the memory of logout tokens received (by jti), about 100 bytes an entry; they are
	// remembered until they expire, minutes after they were issued.
	maxLogoutTokens = 10_000
)

// backchannelLogout receives logout tokens and remembers, on this replica, what they ended: provider sessions,
// and users whose sessions created up to a time are over. With a store that can end sessions (Redis), the named
// sessions are also deleted from the store, for every replica at once.
type backchannelLogout struct {
	path     string                // "" when off
	verifier *oidc.IDTokenVerifier // signature, alg, iss and aud; the rest is checked by verifyLogoutToken
	ender    session.SessionEnder  // nil when the store cannot end sessions by name (cookies)

	sids *expiring.Cache[struct{}]  // provider sessions logged out
	subs *expiring.Cache[time.Time] // users whose sessions created at or before the time are logged out
	jtis *expiring.Cache[struct{}]  // logout tokens received, until they expire

	// keys and issuer tell a token of this provider whose keys could not be loaded (503) from a bad one (400);
	// tokens checks a token's iat.
	issuer             string
	keys               *keySet
	tokens             *tokenVerifier
	now                func() time.Time
	clockSkew          time.Duration
	sessionMaxAge      time.Duration
	revalidateInterval time.Duration // said in the start message only
	log                *slog.Logger
	audit              *audit.Logger // nil: no audit records
	observer           Observer
}

// newBackchannelLogout prepares back-channel logout for a, whose keys, token verifier, store, observer and
// configuration are set.
func newBackchannelLogout(a *Auth) *backchannelLogout {
	b := &backchannelLogout{
		path: a.cfg.BackchannelLogoutPath,
		verifier: oidc.NewVerifier(a.cfg.OAuthServerURL, a.keys, &oidc.Config{ClientID: a.cfg.ClientID,
			SupportedSigningAlgs: []string{oidc.RS256}, SkipExpiryCheck: true}), // exp may be absent: see verifyLogoutToken
		sids: expiring.New[struct{}](maxEndedSessions),
		subs: expiring.New[time.Time](maxEndedSessions),
		jtis: expiring.New[struct{}](maxLogoutTokens),

		issuer:             a.cfg.OAuthServerURL,
		keys:               a.keys,
		tokens:             a.tokens,
		now:                a.cfg.Now,
		clockSkew:          a.cfg.ClockSkew,
		sessionMaxAge:      a.cfg.SessionMaxAge,
		revalidateInterval: a.cfg.RevalidateInterval,
		log:                a.log,
		audit:              a.audit,
		observer:           a.observer,
	}
	switch {
	case b.path == "":
		b.path = DefaultBackchannelLogoutPath
	case strings.EqualFold(b.path, backchannelLogoutOff):
		b.path = ""
	}
	b.ender, _ = a.store.(session.SessionEnder)
	return b
}

// backchannelLogoutPathProblem says what is wrong with c.BackchannelLogoutPath, or "" when nothing is: it must be
// a plain path of its own, as it becomes a ServeMux pattern.
func (c Config) backchannelLogoutPathProblem() string {
	p := c.BackchannelLogoutPath
	if p == "" || strings.EqualFold(p, backchannelLogoutOff) {
		return ""
	}
	plain := len(p) > 1 && p[0] == '/' && !strings.Contains(p, "//") && !strings.Contains(p, "/.")
	for i := 0; plain && i < len(p); i++ {
		c := p[i]
		plain = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("/-_.~", c) >= 0
	}
	if !plain {
		return fmt.Sprintf("expected a path such as %s (letters, digits, '/', '-', '_', '.', '~'), or off, got %q",
			DefaultBackchannelLogoutPath, p)
	}
	callback := ""
	if u, err := url.Parse(c.RedirectURL); err == nil {
		callback = u.Path
	}
	if p == "/logout" || p == callback {
		return fmt.Sprintf("%q is already the callback or /logout", p)
	}
	return ""
}

// mount registers the back-channel logout endpoint on mux, unless it is off, and says at start what a logout
// token ends with the store in use: at DEBUG when it ends them in time, as a warning when not.
func (b *backchannelLogout) mount(mux Router) {
	if b.path == "" {
		return
	}
	mux.Handle("POST "+b.path, http.HandlerFunc(b.handle))
	switch {
	case b.ender != nil:
		b.log.Debug("appid: back-channel logout: a logout token ends the sessions it names on every instance at once",
			"path", b.path)
	case b.revalidateInterval > 0:
		b.log.Debug("appid: back-channel logout with cookie sessions: the instance that receives a logout token "+
			"refuses the sessions it names at once; other instances refuse them when they next revalidate them with "+
			"the provider, within the revalidation interval (sessions without a refresh token: when their access "+
			"token expires); use Redis sessions to end them everywhere at once", "path", b.path,
			"revalidate_interval", b.revalidateInterval.String())
	default:
		b.log.Warn("appid: back-channel logout with cookie sessions and revalidation off: only the instance that "+
			"receives a logout token refuses the sessions it names; other instances keep them until their access "+
			"token expires", "path", b.path)
	}
}

// handle is the back-channel logout endpoint: POST, form field logout_token. It answers 200
// once the sessions the token names have ended, 400 {"error":"invalid_request"} for a token it refuses (or one
// seen before), and 503 when the provider's keys or the session store cannot be reached, so that the provider
// may try again. The provider calls it server to server: it needs no session cookie, and the cross-origin check
// of /logout does not apply (only the provider can sign a logout token).
func (b *backchannelLogout) handle(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBackchannelForm)
	if err := r.ParseForm(); err != nil {
		answer.JSON(w, http.StatusBadRequest, "invalid_request", "the form could not be read")
		return
	}
	if raw := r.PostForm["logout_token"]; len(raw) != 1 || raw[0] == "" {
		answer.JSON(w, http.StatusBadRequest, "invalid_request", "expected one logout_token form field")
		return
	}
	ctx := r.Context()
	tok, err := b.verifyLogoutToken(ctx, r.PostForm.Get("logout_token"))
	if errors.Is(err, errProviderUnavailable) {
		b.log.WarnContext(ctx, "appid: back-channel logout: cannot verify the logout token", "error", err)
		b.audit.Write(r, backchannelRecord(nil, audit.Failure, "provider_unreachable"))
		answer.JSON(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the provider's keys cannot be loaded")
		return
	}
	if err != nil {
		b.log.InfoContext(ctx, "appid: back-channel logout: logout token refused", "error", err)
		b.audit.Write(r, backchannelRecord(nil, audit.Failure, "token_invalid"))
		answer.JSON(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	now := b.now()
	if !b.jtis.PutIfAbsent(tok.jti, struct{}{}, tok.acceptedUntil.Add(b.clockSkew), now) {
		b.log.InfoContext(ctx, "appid: back-channel logout: logout token refused: its jti was seen before")
		b.audit.Write(r, backchannelRecord(tok, audit.Failure, "token_replayed"))
		answer.JSON(w, http.StatusBadRequest, "invalid_request", "logout token already received (jti)")
		return
	}
	ended, err := b.endLoggedOut(ctx, tok, now)
	if err != nil {
		b.jtis.Remove(tok.jti) // the provider may send it again
		b.observer.SessionStoreError("delete")
		b.log.ErrorContext(ctx, "appid: back-channel logout: ending the sessions failed", "error", err)
		b.audit.Write(r, backchannelRecord(tok, audit.Failure, "session_store_failed"))
		answer.JSON(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the session store is unavailable")
		return
	}
	b.log.InfoContext(ctx, "appid: back-channel logout", "user_id", tok.sub, "by_provider_session", tok.sid != "",
		"sessions_deleted", ended)
	b.audit.Write(r, backchannelRecord(tok, audit.Success, "", slog.Int("sessions_deleted", ended)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// backchannelRecord is the audit record of a back-channel logout by tok (nil when it was refused unread):
// by "sid" when it names a provider session, else "sub".
func backchannelRecord(tok *logoutToken, outcome, reason string, attrs ...slog.Attr) audit.Record {
	rec := audit.Record{Event: audit.BackchannelLogout, Outcome: outcome, Reason: reason, Attrs: attrs}
	if tok != nil {
		by := "sub"
		if tok.sid != "" {
			by = "sid"
		}
		rec.UserID = tok.sub
		rec.Attrs = append(rec.Attrs, slog.String("by", by))
	}
	return rec
}

// logoutToken is what a verified logout token says.
type logoutToken struct {
	sid, sub, jti string
	issuedAt      time.Time
	acceptedUntil time.Time // exp, or without one iat + logoutTokenMaxAge
}

// logoutTokenClaims are the claims verifyLogoutToken checks beyond those go-oidc does (iss and aud).
type logoutTokenClaims struct {
	IssuedAt json.RawMessage `json:"iat"`
	Expiry   json.RawMessage `json:"exp"`
	Events   json.RawMessage `json:"events"`
	Nonce    json.RawMessage `json:"nonce"`
	Subject  json.RawMessage `json:"sub"`
	SID      json.RawMessage `json:"sid"`
	JTI      json.RawMessage `json:"jti"`
}

// verifyLogoutToken checks a logout token as OpenID Connect Back-Channel Logout 1.0 §2.6 asks: a JWS (never
// encrypted, never alg none) signed by the provider's key (RS256, by kid from the JWKS), typ absent or
// logout+jwt (or JWT), iss, aud containing the client id, iat present and not in the future beyond the clock
// skew, exp when present not past (without it, iat no older than logoutTokenMaxAge), an events claim holding the
// back-channel logout event as a JSON object, no nonce, a jti, and sid and/or sub. It refuses a bad token with
// errTokenInvalid, and answers errProviderUnavailable when no signing key could be loaded to check a token that
// names this provider.
func (b *backchannelLogout) verifyLogoutToken(ctx context.Context, raw string) (*logoutToken, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: logout token: %s", errTokenInvalid, fmt.Sprintf(format, args...))
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, bad("malformed or not signed with RS256: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, bad("expected one signature, got %d", len(jws.Signatures))
	}
	if typ, _ := jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType].(string); !logoutTokenType(typ) {
		return nil, bad("expected typ logout+jwt, got %q", typ)
	}
	tok, err := b.verifier.Verify(ctx, raw)
	if err != nil {
		var claims struct {
			Issuer string `json:"iss"`
		}
		json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims)
		if !b.keys.loaded() && claims.Issuer == b.issuer {
			return nil, fmt.Errorf("%w: logout token: %v", errProviderUnavailable, err)
		}
		return nil, bad("%v", err)
	}
	var c logoutTokenClaims
	if err := tok.Claims(&c); err != nil {
		return nil, bad("claims: %v", err)
	}
	if present(c.Nonce) {
		return nil, bad("expected no nonce claim, got one (an id token?)")
	}
	if !present(c.IssuedAt) || tok.IssuedAt.IsZero() {
		return nil, bad(`expected an "iat" claim, got none`)
	}
	if err := b.tokens.checkIssuedAt(tok); err != nil {
		return nil, bad("%v", err)
	}
	lt := &logoutToken{issuedAt: tok.IssuedAt, acceptedUntil: tok.IssuedAt.Add(logoutTokenMaxAge)}
	if present(c.Expiry) {
		lt.acceptedUntil = tok.Expiry
	}
	if now := b.now(); !now.Add(-b.clockSkew).Before(lt.acceptedUntil) {
		return nil, bad("expired at %s (exp, or %s after iat without one); the time is %s",
			lt.acceptedUntil.UTC().Format(time.RFC3339), logoutTokenMaxAge, now.UTC().Format(time.RFC3339))
	}
	if err := checkLogoutEvent(c.Events); err != nil {
		return nil, bad("%v", err)
	}
	for _, f := range []struct {
		name  string
		raw   json.RawMessage
		value *string
	}{{"sub", c.Subject, &lt.sub}, {"sid", c.SID, &lt.sid}, {"jti", c.JTI, &lt.jti}} {
		if present(f.raw) && json.Unmarshal(f.raw, f.value) != nil {
			return nil, bad("%s claim is not a string", f.name)
		}
	}
	if lt.sub == "" && lt.sid == "" {
		return nil, bad("expected a sid or sub claim, got neither")
	}
	if lt.jti == "" {
		return nil, bad(`expected a "jti" claim, got none`)
	}
	return lt, nil
}

// logoutTokenType reports whether typ, a JOSE header, fits a logout token: absent, logout+jwt (explicit typing,
// RFC 8725) in either of its forms, or the generic JWT that providers implementing the drafts send.
func logoutTokenType(typ string) bool {
	switch strings.ToLower(typ) {
	case "", "jwt", "logout+jwt", "application/logout+jwt":
		return true
	}
	return false
}

// checkLogoutEvent checks that events, a claim, is a JSON object whose back-channel logout member is a JSON
// object.
func checkLogoutEvent(events json.RawMessage) error {
	if !present(events) {
		return errors.New("expected an events claim, got none")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(events, &members); err != nil {
		return errors.New("events claim is not a JSON object")
	}
	event, ok := members[backchannelLogoutEvent]
	if !ok {
		return fmt.Errorf("events claim lacks %s", backchannelLogoutEvent)
	}
	var object map[string]json.RawMessage
	if !present(event) || json.Unmarshal(event, &object) != nil {
		return fmt.Errorf("the %s event is not a JSON object", backchannelLogoutEvent)
	}
	return nil
}

// present reports whether a claim was given, as anything but null.
func present(claim json.RawMessage) bool {
	return len(claim) > 0 && string(claim) != "null"
}

// endLoggedOut ends what tok names: with a sid, the sessions of that provider session; without one, the
// sessions of the user (sub) created before the token arrived, but no later than its iat plus the clock skew
// (a replay must not end later sessions), since later ones began after the logout. This
// replica refuses them from now on; a store that can end sessions by name deletes them for every replica. It
// returns how many sessions the store deleted.
func (b *backchannelLogout) endLoggedOut(ctx context.Context, tok *logoutToken, now time.Time) (int, error) {
	// A session named here began before now, so it ends within SessionMaxAge from now at the latest.
	until := now.Add(b.sessionMaxAge + b.clockSkew)
	name, createdUpTo := "", time.Time{}
	if tok.sid != "" {
		b.sids.Put(tok.sid, struct{}{}, until, now)
		name = sessionIndexSID + tok.sid
	} else {
		// Every session begun before the token arrived, on this replica's clock (the provider's may lag within
		// the skew), to the end of that second (the Redis index keeps whole seconds): ending a session begun a
		// moment after the logout is the safe mistake.
		// The cut stays within the skew of the token's iat, so that the same token delivered again later (a
		// retry, on another replica or after a restart) does not end sessions begun after the logout.
		endOfSecond := func(t time.Time) time.Time { return t.Truncate(time.Second).Add(time.Second - time.Nanosecond) }
		upTo := endOfSecond(now)
		if limit := endOfSecond(tok.issuedAt.Add(b.clockSkew)); upTo.After(limit) {
			upTo = limit
		}
		if tok.issuedAt.After(upTo) {
			upTo = tok.issuedAt
		}
		createdUpTo = upTo
		if prev, ok := b.subs.Get(tok.sub, now); ok && prev.After(upTo) {
			upTo = prev
		}
		b.subs.Put(tok.sub, upTo, until, now)
		name = sessionIndexSub + tok.sub
	}
	if b.ender == nil {
		return 0, nil
	}
	return b.ender.EndSessions(ctx, name, createdUpTo)
}

// Names under which sessions are filed in a store that can end them (session.SaveOptions.Index).
const (
	sessionIndexSID = "sid:"
	sessionIndexSub = "sub:"
)

// index returns the names under which st is filed for back-channel logout, nil when the store cannot end
// sessions by name.
func (b *backchannelLogout) index(st *sessionState) []string {
	if b.ender == nil {
		return nil
	}
	names := []string{sessionIndexSub + st.user.ID}
	if st.providerSID != "" {
		names = append(names, sessionIndexSID+st.providerSID)
	}
	return names
}

// loggedOut reports whether a back-channel logout received by this replica ended st.
func (b *backchannelLogout) loggedOut(st *sessionState, now time.Time) bool {
	if st.providerSID != "" {
		if _, ok := b.sids.Get(st.providerSID, now); ok {
			return true
		}
	}
	upTo, ok := b.subs.Get(st.user.ID, now)
	return ok && !st.createdAt.After(upTo)
}
