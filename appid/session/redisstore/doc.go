// Package redisstore keeps appidgate's login sessions in Redis: a [RedisStore] is a session.Store that holds each
// session, sealed by a session.Codec, behind a random id in the browser's cookie, so that logout ends a session on
// every replica at once. It also implements session.SessionLocker (one replica refreshes a session's tokens at a
// time) and session.SessionEnder (back-channel logout ends every session of a provider session or a user).
//
// It is a package of its own so that programs that keep sessions in cookies do not link a Redis client:
//
//	client, err := redisstore.NewRedisClientFromURL("rediss://user:password@host:6380/0") // APPIDGATE_REDIS_URL
//	...
//	codec, err := session.NewCodec(sessionKeys...) // the first seals, all open
//	...
//	store := redisstore.NewRedisStore(client, codec, redisstore.RedisOptions{Secure: true})
//	auth, err := appid.New(ctx, appid.Config{..., Store: store})
package redisstore
