package appid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/appid/session"
)

// unknownKeyWarning is logged, at most once per unknownKeyWarningEvery, when a session was sealed with a secret
// this replica does not have: its user is sent to the login.
const (
	unknownKeyWarning = "appid: a session was sealed with a session secret this replica does not have, and its user " +
		"must sign in again; most likely a key rotation done in one step is in progress (some replicas already seal " +
		"with a new SESSION_SECRET_KEY). Rotate in two steps, the new key first in APPIDGATE_SESSION_PREVIOUS_KEYS on " +
		"every replica: see docs/sessions.md, Key rotation"
	unknownKeyWarningEvery = time.Minute
)

// touchInterval is how stale the session's last write may get before a request rewrites it to extend the idle
// timeout; rewriting on every request would cost a cookie (or Redis write) per request.
const touchInterval = time.Minute

// Bounds of the per-replica session memories (see expiring.Cache for the rule by which they forget).
const (
	// maxVerifiedSessions bounds the cache of decoded cookie sessions: about 1 KB an entry.
	maxVerifiedSessions = 10_000
	// maxEndedSessions bounds the list of sessions logged out on this replica: about 100 bytes an entry.
	maxEndedSessions = 100_000
)

// loadSession returns the request's valid session, refreshed, revalidated or touched as needed, or nil when
// there is none. The error is set only when the store itself failed.
func (a *Auth) loadSession(w http.ResponseWriter, r *http.Request) (*sessionState, error) {
	now := a.cfg.Now()
	st, err := a.readSession(r, now)
	if st == nil || err != nil {
		return nil, err
	}
	if !now.Before(st.user.ExpiresAt) || a.revalidationDue(st, now) {
		return a.refresh(w, r, st, now), nil
	}
	if a.cfg.Introspect && !a.introspect(r.Context(), st) {
		return nil, nil
	}
	if now.Sub(st.savedAt) > touchInterval {
		own := *st // st may be shared with other requests
		own.savedAt = now
		a.saveSession(w, r, &own, false) // a failed write is logged; this request still has a valid session
		return &own, nil
	}
	return st, nil
}

// readSession returns the request's session unless it has none, or one past its lifetime or logged out. With a
// cookie store, a cookie seen before is not decrypted and decoded again: the session decoded from it is shared,
// read-only, by every request that carries the same cookie.
func (a *Auth) readSession(r *http.Request, now time.Time) (*sessionState, error) {
	var (
		data []byte
		key  string
		err  error
	)
	if a.cacheKeys != nil {
		if k, ok := a.cacheKeys.CacheKey(r); ok {
			if st, ok := a.verified.Get(k, now); ok {
				if a.sessionOver(st, now) {
					return nil, nil
				}
				return st, nil
			}
		}
		// The key to cache under is what the store opened: the first session cookie may be another, planted one.
		data, key, err = a.cacheKeys.LoadKeyed(r)
	} else {
		data, err = a.store.Load(r)
	}
	if err != nil {
		if errors.Is(err, session.ErrNoSession) {
			if errors.Is(err, session.ErrUnknownKey) {
				a.unknownKeyWarning.Do(func() {
					a.log.WarnContext(r.Context(), unknownKeyWarning, "error", err,
						"every", unknownKeyWarningEvery.String())
				})
			}
			return nil, nil
		}
		a.observer.SessionStoreError("load")
		a.log.ErrorContext(r.Context(), "appid: loading the session failed", "error", err)
		return nil, err
	}
	st, err := decodeSession(data)
	if err != nil || a.sessionOver(st, now) {
		return nil, nil
	}
	if key != "" {
		// The key is a slice of the request's Cookie header: keep a copy, not the whole header.
		a.verified.Put(strings.Clone(key), st, a.sessionEnd(st), now)
	}
	return st, nil
}

// sessionEnd is when st ends at the latest without a new write: its absolute or idle lifetime.
func (a *Auth) sessionEnd(st *sessionState) time.Time {
	end := st.createdAt.Add(a.cfg.SessionMaxAge)
	if idle := st.savedAt.Add(a.cfg.SessionIdleTimeout); idle.Before(end) {
		end = idle
	}
	return end
}

// sessionOver reports whether st is past its lifetime or was logged out on this replica (at /logout, or by a
// back-channel logout it received).
func (a *Auth) sessionOver(st *sessionState, now time.Time) bool {
	if !now.Before(a.sessionEnd(st)) {
		return true
	}
	_, ended := a.ended.Get(st.id, now)
	return ended || a.backchannel.loggedOut(st, now)
}

// revalidationDue reports whether the provider should confirm st again (see Config.RevalidateInterval).
func (a *Auth) revalidationDue(st *sessionState, now time.Time) bool {
	return a.cfg.RevalidateInterval > 0 && st.refreshToken != "" &&
		now.Sub(st.validatedAt) >= a.cfg.RevalidateInterval
}

// endSession remembers st as logged out on this replica for the rest of its life, so that a copy of its cookie is
// refused here at once; other replicas refuse such a copy when they next revalidate it, as its refresh token was
// revoked.
func (a *Auth) endSession(st *sessionState, now time.Time) {
	if st.id != "" {
		a.ended.Put(st.id, struct{}{}, st.createdAt.Add(a.cfg.SessionMaxAge), now)
	}
}

// saveSession writes st as the request's session; renew starts a new session (login), against fixation.
func (a *Auth) saveSession(w http.ResponseWriter, r *http.Request, st *sessionState, renew bool) error {
	err := a.store.Save(w, r, st.encode(make([]byte, 0, 512)), session.SaveOptions{
		Expiry: st.createdAt.Add(a.cfg.SessionMaxAge),
		Renew:  renew,
		// For back-channel logout: a store that can end sessions by name files a new one under these.
		Index:   a.backchannel.index(st),
		Created: st.createdAt,
	})
	if err != nil {
		a.observer.SessionStoreError("save")
		a.log.ErrorContext(r.Context(), "appid: saving the session failed", "error", err)
	}
	return err
}

// sessionFromTokens verifies the tokens of a login (nonce non-empty, prev nil) or of a refresh of prev (nonce
// empty: the id token, if any, is not checked for one) and builds the session state from them, without an id:
// the caller names it. ProviderOIDC mode has its own rules (see oidcSession).
func (a *Auth) sessionFromTokens(ctx context.Context, tok *oauth2.Token, nonce string, prev *sessionState, now time.Time) (*sessionState, error) {
	if a.oidcMode {
		return a.oidcSession(ctx, tok, nonce, prev, now)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if nonce != "" && rawID == "" {
		return nil, fmt.Errorf("%w: the token response holds no id_token", errTokenInvalid)
	}
	access, err := a.verifyAccessToken(ctx, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	var claims tokenClaims
	var accessClaims map[string]any
	if err := access.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: access token claims: %v", errTokenInvalid, err)
	}
	if err := access.Claims(&accessClaims); err != nil {
		return nil, fmt.Errorf("%w: access token claims: %v", errTokenInvalid, err)
	}
	st := &sessionState{refreshToken: tok.RefreshToken, createdAt: now, savedAt: now, validatedAt: now}
	if a.cfg.Introspect || a.cfg.KeepAccessToken {
		// Only introspection and User.AccessToken need the raw access token again; without them the session
		// (and the cookie that every request decrypts) stays small.
		st.accessToken = tok.AccessToken
	}
	st.user.ID = access.Subject
	st.user.ExpiresAt = access.Expiry
	st.user.Scopes = scopesOf(claims.Scope)
	st.user.Roles = a.rolesAt(accessClaims)
	if rawID != "" {
		id, err := a.verifyIDToken(ctx, rawID, nonce)
		if err != nil {
			return nil, err
		}
		if id.Subject != access.Subject {
			return nil, fmt.Errorf("%w: id token subject %q differs from access token subject %q", errTokenInvalid,
				id.Subject, access.Subject)
		}
		var idClaims tokenClaims
		if err := id.Claims(&idClaims); err != nil {
			return nil, fmt.Errorf("%w: id token claims: %v", errTokenInvalid, err)
		}
		claims.Email, claims.Name = idClaims.Email, idClaims.Name
		if err := st.keepIdentityClaims(id); err != nil {
			return nil, err
		}
		if len(st.user.Roles) == 0 {
			st.user.Roles = a.rolesAt(st.user.Claims)
		}
	}
	st.user.Email, st.user.Name = claims.Email, claims.Name
	return st, nil
}

// protocolClaims are the id token claims that only serve its verification: a session does not keep them.
var protocolClaims = []string{"iss", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "auth_time", "azp",
	"jti", "sid"}

// keepIdentityClaims records the provider's session id of a verified id token, and its identity claims (all but
// protocolClaims) as the session's User.Claims.
func (s *sessionState) keepIdentityClaims(id *oidc.IDToken) error {
	var claims map[string]json.RawMessage
	if err := id.Claims(&claims); err != nil {
		return fmt.Errorf("%w: id token claims: %v", errTokenInvalid, err)
	}
	if sid, ok := claims["sid"]; ok && json.Unmarshal(sid, &s.providerSID) != nil {
		return fmt.Errorf("%w: id token: sid claim is not a string", errTokenInvalid)
	}
	for _, name := range protocolClaims {
		delete(claims, name)
	}
	raw, err := json.Marshal(claims)
	if err != nil {
		return fmt.Errorf("%w: id token claims: %v", errTokenInvalid, err)
	}
	s.claims = string(raw)
	if err := json.Unmarshal(raw, &s.user.Claims); err != nil {
		return fmt.Errorf("%w: id token claims: %v", errTokenInvalid, err)
	}
	return nil
}
