// Package session keeps appidgate's login sessions: in encrypted, authenticated cookies by default, so that any
// replica serves any user, or in Redis when server-side sessions are wanted.
//
// Most programs use it through package [github.com/appidgate/appidgate/appid]: with appid.Config.Store left
// nil, appid keeps sessions in a [CookieStore] sealed with the configuration's session keys; a program that
// wants Redis builds a store of package [github.com/appidgate/appidgate/appid/session/redisstore] and passes it
// as appid.Config.Store:
//
//	client, err := redisstore.NewRedisClientFromURL("redis://localhost:6379/0")
//	...
//	codec, err := session.NewCodec(sessionKeys...) // the first seals, all open
//	...
//	store := redisstore.NewRedisStore(client, codec, redisstore.RedisOptions{Secure: true})
//
// # Types
//
// A [Codec] seals values with AES-256-GCM under keys derived from one or more secrets (the first seals, all open,
// for rotation); each value is bound to a purpose and carries its expiry. [CookieStore] keeps the sealed session
// in HttpOnly, SameSite=Lax cookies (Secure and "__Host-" on https), split across several cookies when large.
// redisstore.RedisStore keeps it in Redis behind a random session id and also implements [SessionLocker], so that
// replicas can agree on who refreshes a session's tokens, and [SessionEnder], so that a session can be ended by
// its provider session or its user (back-channel logout) whichever browser holds it.
//
// # Choosing a store
//
// Cookies need nothing to run, cost no network call and suit an app that scales to zero; a logged-out session's
// copied cookie keeps working on other replicas until they revalidate it with the provider. Redis costs a call
// per request and a server to run, and ends sessions on every replica at once. Both refuse a session past its
// expiry, and [Store.Load] reports either "not logged in" ([ErrNoSession]) or a failed store, never one for the
// other.
package session
