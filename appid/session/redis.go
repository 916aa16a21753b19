package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// DefaultRedisKeyPrefix starts every key that a RedisStore writes when RedisOptions.KeyPrefix is empty.
	DefaultRedisKeyPrefix = "appidgate:"
	// DefaultRedisTimeout bounds each Redis round trip when RedisOptions.Timeout is zero.
	DefaultRedisTimeout = 2 * time.Second

	// sessionIDLen is the session id's random bytes (256 bits); the cookie carries them base64url-encoded.
	sessionIDLen = 32
	// sessionIDTextLen is the length of a session id in the cookie: unpadded base64 of sessionIDLen bytes.
	sessionIDTextLen = (sessionIDLen*8 + 5) / 6
)

// RedisOptions configures a RedisStore.
type RedisOptions struct {
	// Name is the session id cookie's name, DefaultCookieName when empty; with Secure it gets the __Host- prefix.
	Name string
	// Secure marks the cookie Secure and adds the __Host- prefix. Set it whenever the app is served over https.
	Secure bool
	// KeyPrefix starts every Redis key, DefaultRedisKeyPrefix when empty. Sessions live under
	// "<prefix>session:<id>".
	KeyPrefix string
	// Timeout bounds every Redis call, DefaultRedisTimeout when zero.
	Timeout time.Duration
	// Now is the clock, time.Now when nil.
	Now func() time.Time
}

// RedisStore is a Store that keeps sessions in Redis, sealed by a Codec and expiring with a TTL, while the browser
// holds only a random 256-bit session id. Logout therefore ends a session on every replica. Redis failures are
// returned as errors, never as ErrNoSession.
type RedisStore struct {
	client  redis.UniversalClient
	codec   *Codec
	cookie  browserCookie
	prefix  string
	timeout time.Duration
	now     func() time.Time
}

// NewRedisStore returns a RedisStore that keeps sessions in client, sealed with codec. The client should have
// ContextTimeoutEnabled (NewRedisClientFromURL sets it) so that RedisOptions.Timeout also bounds network waits.
func NewRedisStore(client redis.UniversalClient, codec *Codec, opts RedisOptions) *RedisStore {
	s := &RedisStore{
		client:  client,
		codec:   codec,
		cookie:  newBrowserCookie(opts.Name, opts.Secure),
		prefix:  opts.KeyPrefix,
		timeout: opts.Timeout,
		now:     opts.Now,
	}
	if s.prefix == "" {
		s.prefix = DefaultRedisKeyPrefix
	}
	if s.timeout <= 0 {
		s.timeout = DefaultRedisTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// NewRedisClientFromURL returns a client for a redis:// or rediss:// (TLS) URL such as the value of
// APPIDGATE_REDIS_URL, for example "rediss://user:password@host:6380/0". Errors never repeat the URL, which may
// hold a password.
func NewRedisClientFromURL(redisURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(redisURL)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // url.Error quotes the whole URL
		}
		return nil, fmt.Errorf("session: redis URL does not parse: %w", err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("session: redis URL has scheme %q, want redis or rediss", u.Scheme)
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("session: redis URL: %w", err)
	}
	// Without this go-redis ignores context deadlines on the socket, and RedisOptions.Timeout would not bound
	// a call to a Redis that stopped answering.
	opts.ContextTimeoutEnabled = true
	return redis.NewClient(opts), nil
}

// Ping reports whether Redis answers, for readiness checks.
func (s *RedisStore) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("session: redis store: ping: %w", err)
	}
	return nil
}

// Load returns the session whose id the request's cookie carries. An absent, malformed or unknown id, or a
// stored value that fails to open, gives ErrNoSession; a Redis failure gives another error.
func (s *RedisStore) Load(r *http.Request) ([]byte, error) {
	id, ok := s.requestID(r)
	if !ok {
		return nil, ErrNoSession
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	sealed, err := s.client.Get(ctx, s.sessionKey(id)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("session: redis store: loading session: %w", err)
	}
	return s.open(id, sealed)
}

// Save stores data as the request's session until opts.Expiry and sets the id cookie.
//
// A request without a session id cookie, or opts.Renew, gets a new id; with opts.Renew the old session is deleted
// first, so an id planted before login is worthless after it. Otherwise Save updates the existing session, and
// refuses with an error wrapping ErrNoSession (and expires the cookie) if that session ended meanwhile, for example
// by Delete on another replica: an update must not bring a logged-out session back.
func (s *RedisStore) Save(w http.ResponseWriter, r *http.Request, data []byte, opts SaveOptions) error {
	now := s.now()
	if !opts.Expiry.After(now) {
		return fmt.Errorf("session: redis store save: expiry %s is not after now %s", opts.Expiry.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	// Whole seconds, rounded up, as for the cookie's Max-Age; relative TTLs keep the app's and Redis' clocks apart.
	ttl := (opts.Expiry.Sub(now) + time.Second - 1).Truncate(time.Second)
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()

	oldID, hasOld := s.requestID(r)
	if hasOld && opts.Renew {
		if err := s.destroy(ctx, oldID); err != nil {
			return err
		}
	}
	id := oldID
	mode := "XX" // update only a session that still exists
	if !hasOld || opts.Renew {
		var err error
		if id, err = newSessionID(); err != nil {
			return err
		}
		mode = "NX"
	}
	sealed, err := s.codec.Seal(s.purpose(id), encodeRecord(data), opts.Expiry)
	if err != nil {
		return err
	}
	err = s.client.SetArgs(ctx, s.sessionKey(id), sealed, redis.SetArgs{Mode: mode, TTL: ttl}).Err()
	if errors.Is(err, redis.Nil) && mode == "XX" {
		s.cookie.expire(w, s.cookie.name)
		return fmt.Errorf("%w (session ended before this save; log in again)", ErrNoSession)
	}
	if errors.Is(err, redis.Nil) {
		return errors.New("session: redis store: new session id already exists; the random source is broken")
	}
	if err != nil {
		return fmt.Errorf("session: redis store: saving session: %w", err)
	}
	s.cookie.set(w, s.cookie.name, id, opts.Expiry, now)
	return nil
}

// Delete ends the request's session in Redis and expires the id cookie. The cookie is expired even when Redis
// fails, and the failure is returned.
func (s *RedisStore) Delete(w http.ResponseWriter, r *http.Request) error {
	s.cookie.expire(w, s.cookie.name)
	id, ok := s.requestID(r)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	return s.destroy(ctx, id)
}

// destroy deletes session id.
func (s *RedisStore) destroy(ctx context.Context, id string) error {
	if err := s.client.Del(ctx, s.sessionKey(id)).Err(); err != nil {
		return fmt.Errorf("session: redis store: deleting session: %w", err)
	}
	return nil
}

// open unseals a stored session and returns its data.
func (s *RedisStore) open(id, sealed string) ([]byte, error) {
	record, err := s.codec.Open(s.purpose(id), sealed, s.now())
	if err != nil {
		return nil, err
	}
	return decodeRecord(record)
}

// requestID returns the well-formed session id that the request's cookie carries.
func (s *RedisStore) requestID(r *http.Request) (string, bool) {
	id, ok := requestCookie(r, s.cookie.name)
	if !ok || len(id) != sessionIDTextLen {
		return "", false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	return id, true
}

// purpose binds a stored value to its key, so that values copied between keys in Redis do not open.
func (s *RedisStore) purpose(id string) string { return "redis-session:" + id }

func (s *RedisStore) sessionKey(id string) string { return s.prefix + "session:" + id }

// newSessionID returns 256 random bits, base64url-encoded.
func newSessionID() (string, error) {
	b := make([]byte, sessionIDLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session: redis store: reading random session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// encodeRecord lays out a stored session as uvarint(len(userID)) | userID | data with an empty user id. The
// field once fed a per-user index; it stays in the layout so that replicas of the previous release and of this one
// read each other's sessions during a rolling update.
func encodeRecord(data []byte) []byte {
	return append([]byte{0}, data...)
}

// decodeRecord returns the data of a stored session, skipping the user id that older releases wrote.
func decodeRecord(record []byte) ([]byte, error) {
	n, size := binary.Uvarint(record)
	if size <= 0 || n > uint64(len(record)-size) {
		return nil, fmt.Errorf("%w (stored session record is malformed)", ErrNoSession)
	}
	return record[size+int(n):], nil
}

var (
	_ Store = (*RedisStore)(nil)
)
