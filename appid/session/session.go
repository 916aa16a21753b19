package session

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// ErrNoSession is returned by Store.Load when the request carries no session, or one that fails authentication,
// has expired or is unknown to the store. Callers treat all of these alike: the user is not logged in.
var ErrNoSession = errors.New("session: no valid session")

// ErrUnknownKey is wrapped, together with ErrNoSession, by the error of a value sealed with a secret this process
// does not have: most likely another replica already seals with a new SESSION_SECRET_KEY that this one does not
// know yet, as during a key rotation done in one step.
var ErrUnknownKey = errors.New("session: sealed with a secret this process does not have")

// Store keeps one opaque, already-serialized session per browser.
//
// Implementations must be safe for concurrent use. Errors other than ErrNoSession mean the store itself failed
// (for example Redis is unreachable) and are reported as such, never as "not logged in".
type Store interface {
	// Load returns the session data that the request carries.
	Load(r *http.Request) ([]byte, error)
	// Save writes data as the request's session, valid until opts.Expiry.
	Save(w http.ResponseWriter, r *http.Request, data []byte, opts SaveOptions) error
	// Delete ends the request's session, in the browser and, for server-side stores, on the server.
	Delete(w http.ResponseWriter, r *http.Request) error
}

// SaveOptions says how Store.Save writes a session.
type SaveOptions struct {
	// Expiry is when the session ends at the latest; the store refuses to load it afterwards.
	Expiry time.Time
	// Renew asks for a fresh session identifier (and for server-side stores, the removal of the old one),
	// as at login, so that an identifier planted before login is worthless after it.
	Renew bool
	// Index names what the session can be ended by as a group, such as the provider's session id and the user
	// id, for stores that implement SessionEnder; other stores ignore it. A SessionEnder files the session under
	// these names when Save creates it (a new identifier), so pass them at login.
	Index []string
	// Created is when the session began (the login), which SessionEnder.EndSessions compares with its createdUpTo.
	Created time.Time
}

// CacheKeyer is implemented by stores whose Load answers the same for the same key, a value the request carries,
// until the session's expiry, as the cookie store does for the sealed cookie: callers may then cache what they
// derive from a loaded session under the key LoadKeyed returned, and find it again under CacheKey. A
// server-side store, whose sessions can end while the browser keeps its cookie, must not implement it.
type CacheKeyer interface {
	// CacheKey returns the request's key cheaply, unchecked, or false when it has none. Only a key that
	// LoadKeyed returned before identifies a session; any other matches nothing a caller cached.
	CacheKey(r *http.Request) (string, bool)
	// LoadKeyed is Load, also returning the key of exactly what it loaded ("" when that cannot be cached).
	LoadKeyed(r *http.Request) (data []byte, key string, err error)
}

// SessionLocker is implemented by stores that can hold a lock on one session that every replica respects, so
// that work done once per session, such as redeeming its refresh token, runs on one replica at a time. Stores
// whose sessions live only in the browser (CookieStore) cannot, and do not implement it.
type SessionLocker interface {
	// LockSession blocks until it holds the lock of the session that r carries, or r's context ends (its error is
	// then returned; pass r.WithContext(ctx) to wait on another context). The returned release frees the lock
	// and may be called more than once. A request without a session gives an error wrapping ErrNoSession; other
	// errors mean the store failed, and the caller may go on without the lock.
	LockSession(r *http.Request) (release func(), err error)
}

// SessionEnder is implemented by server-side stores that can end sessions by a name they were filed under
// (SaveOptions.Index), whichever browser holds them: once EndSessions returns, Load refuses them on every replica
// that uses the store. Stores whose sessions live only in the browser (CookieStore) cannot, and do not implement
// it.
type SessionEnder interface {
	// EndSessions deletes every live session filed under name that was created (SaveOptions.Created) at or before
	// createdUpTo, or every one when createdUpTo is zero, and reports how many it deleted. An error means the store
	// failed; some of the sessions may have ended.
	EndSessions(ctx context.Context, name string, createdUpTo time.Time) (int, error)
}
