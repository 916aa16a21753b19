package redisstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/appid/session/internal/browsercookie"
)

const (
	// DefaultRedisKeyPrefix starts every key that a RedisStore writes when RedisOptions.KeyPrefix is empty.
	DefaultRedisKeyPrefix = "appidgate:"
	// DefaultRedisTimeout bounds each Redis round trip when RedisOptions.Timeout is zero.
	DefaultRedisTimeout = 2 * time.Second
	// DefaultLockLease is how long a session lock outlives a holder that stopped renewing it (a replica that
	// crashed or lost Redis), when RedisOptions.LockLease is zero.
	DefaultLockLease = 5 * time.Second

	// lockPollMin and lockPollMax bound the wait between two attempts to take a held lock: it starts at the
	// minimum and doubles up to the maximum, with jitter so that waiters on several replicas spread out.
	lockPollMin = 5 * time.Millisecond
	lockPollMax = 50 * time.Millisecond

	// sessionIDLen is the session id's random bytes (256 bits); the cookie carries them base64url-encoded.
	sessionIDLen = 32
	// sessionIDTextLen is the length of a session id in the cookie: unpadded base64 of sessionIDLen bytes.
	sessionIDTextLen = (sessionIDLen*8 + 5) / 6

	// endBatch is how many index members EndSessions reads per round trip.
	endBatch = 500
)

// indexSession files a session under the index KEYS[1], a sorted set of "<created unix seconds>:<session id>"
// members scored by the session's expiry (unix ms): it drops the members that expired by ARGV[3] (now, unix ms),
// adds ARGV[1] with score ARGV[2], and makes the set live ARGV[4] ms unless it lives longer already, so that the
// index lasts as long as its longest session and holds only live ones. A script, so that it is atomic without
// EXPIRE GT (Redis 7); it touches only KEYS[1], so it also runs on Redis Cluster.
const indexSession = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then
	redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
`

// renewLock extends the lease of lock KEYS[1] to ARGV[2] milliseconds if it still holds the holder's token
// ARGV[1], and returns 1; it returns 0 when the lock has expired or another holder has it. Single-key scripts
// run on Redis Cluster.
const renewLock = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`

// releaseLock deletes lock KEYS[1] only if it still holds the holder's token ARGV[1]: a holder whose lease
// expired must not free the lock that another replica has taken since.
const releaseLock = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`

// RedisOptions configures a RedisStore.
type RedisOptions struct {
	// Name is the session id cookie's name, DefaultCookieName when empty; with Secure it gets the __Host- prefix.
	Name string
	// Secure marks the cookie Secure and adds the __Host- prefix. Set it whenever the app is served over https.
	Secure bool
	// KeyPrefix starts every Redis key, DefaultRedisKeyPrefix when empty. Sessions live under
	// "<prefix>session:<id>", their locks (see LockSession) under "<prefix>lock:session:<id>", and the index of
	// the sessions filed under a name (SaveOptions.Index, see EndSessions) under "<prefix>index:<hash of name>".
	KeyPrefix string
	// Timeout bounds every Redis call, DefaultRedisTimeout when zero.
	Timeout time.Duration
	// LockLease is how long a session lock lasts without renewal, DefaultLockLease when zero. The holder renews
	// it every third of the lease while it holds it, so the lease bounds only how long a crashed holder blocks
	// the others.
	LockLease time.Duration
	// Now is the clock, time.Now when nil.
	Now func() time.Time
}

// RedisStore is a Store that keeps sessions in Redis, sealed by a Codec and expiring with a TTL, while the browser
// holds only a random 256-bit session id. Logout therefore ends a session on every replica, LockSession
// serializes work on a session across replicas, and EndSessions ends every session filed under a name (a
// provider session, a user) at once. Redis failures are returned as errors, never as ErrNoSession.
type RedisStore struct {
	client    redis.UniversalClient
	codec     *session.Codec
	cookie    browsercookie.Cookie
	prefix    string
	timeout   time.Duration
	lease     time.Duration
	now       func() time.Time
	renewLock *redis.Script
	freeLock  *redis.Script
	index     *redis.Script
}

// NewRedisStore returns a RedisStore that keeps sessions in client, sealed with codec. The client should have
// ContextTimeoutEnabled (NewRedisClientFromURL sets it) so that RedisOptions.Timeout also bounds network waits.
func NewRedisStore(client redis.UniversalClient, codec *session.Codec, opts RedisOptions) *RedisStore {
	s := &RedisStore{
		client:    client,
		codec:     codec,
		cookie:    browsercookie.New(opts.Name, opts.Secure),
		prefix:    opts.KeyPrefix,
		timeout:   opts.Timeout,
		lease:     opts.LockLease,
		now:       opts.Now,
		renewLock: redis.NewScript(renewLock),
		freeLock:  redis.NewScript(releaseLock),
		index:     redis.NewScript(indexSession),
	}
	if s.prefix == "" {
		s.prefix = DefaultRedisKeyPrefix
	}
	if s.timeout <= 0 {
		s.timeout = DefaultRedisTimeout
	}
	if s.lease <= 0 {
		s.lease = DefaultLockLease
	}
	s.lease = max(s.lease, 3*time.Millisecond) // renewed every third, in whole milliseconds
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// NewRedisClientFromURL returns a client for a redis:// or rediss:// (TLS) URL such as the value of
// APPIDGATE_REDIS_URL, for example "rediss://user:password@host:6380/0". Errors never repeat the URL, which may
// hold a password.
func NewRedisClientFromURL(redisURL string) (redis.UniversalClient, error) {
	return NewRedisClient(redisURL, nil)
}

// NewRedisClient is NewRedisClientFromURL with the server's certificate checked against roots instead of the
// system's CAs, as managed Redis services with their own CA need (see ParseRedisCACert). Roots require a
// rediss:// URL; nil roots mean the system's.
func NewRedisClient(redisURL string, roots *x509.CertPool) (redis.UniversalClient, error) {
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
	if roots != nil {
		if opts.TLSConfig == nil {
			return nil, errors.New("session: a CA certificate is given for a redis:// URL; use rediss:// for TLS")
		}
		opts.TLSConfig.RootCAs = roots
	}
	if opts.TLSConfig != nil {
		opts.TLSConfig.MinVersion = max(opts.TLSConfig.MinVersion, tls.VersionTLS12)
	}
	// Without this go-redis ignores context deadlines on the socket, and RedisOptions.Timeout would not bound
	// a call to a Redis that stopped answering.
	opts.ContextTimeoutEnabled = true
	return redis.NewClient(opts), nil
}

// ParseRedisCACert reads the CA certificates that sign a Redis server's certificate, given as PEM or as base64 of
// PEM, as IBM Cloud Databases for Redis gives it in its credentials (connection.rediss.certificate
// .certificate_base64).
func ParseRedisCACert(s string) (*x509.CertPool, error) {
	data := []byte(strings.TrimSpace(s))
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		decoded, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(data), nil)))
		if err != nil {
			return nil, errors.New("session: redis CA certificate: neither PEM nor base64 of PEM")
		}
		data = decoded
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("session: redis CA certificate %d: %w", n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, errors.New("session: redis CA certificate: no PEM CERTIFICATE block found")
	}
	return pool, nil
}

// Ping reports whether Redis answers, for readiness checks.
func (s *RedisStore) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
			return fmt.Errorf("session: redis store: ping: the server's TLS certificate is not signed by a trusted CA "+
				"(a managed Redis needs its CA certificate): %w", err)
		}
		return fmt.Errorf("session: redis store: ping: %w", err)
	}
	return nil
}

// Load returns the session whose id the request's cookie carries. An absent, malformed or unknown id, or a
// stored value that fails to open, gives ErrNoSession; a Redis failure gives another error.
func (s *RedisStore) Load(r *http.Request) ([]byte, error) {
	id, ok := s.requestID(r)
	if !ok {
		return nil, session.ErrNoSession
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	sealed, err := s.client.Get(ctx, s.sessionKey(id)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, session.ErrNoSession
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
// by Delete on another replica: an update must not bring a logged-out session back. A new session is filed under
// each name of opts.Index (in the same round trip), for EndSessions.
func (s *RedisStore) Save(w http.ResponseWriter, r *http.Request, data []byte, opts session.SaveOptions) error {
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
	if mode == "NX" && len(opts.Index) > 0 {
		err = s.saveIndexed(ctx, id, sealed, ttl, opts, now)
	} else {
		err = s.client.SetArgs(ctx, s.sessionKey(id), sealed, redis.SetArgs{Mode: mode, TTL: ttl}).Err()
	}
	if errors.Is(err, redis.Nil) && mode == "XX" {
		s.cookie.Expire(w, s.cookie.Name)
		return fmt.Errorf("%w (session ended before this save; log in again)", session.ErrNoSession)
	}
	if errors.Is(err, redis.Nil) {
		return errors.New("session: redis store: new session id already exists; the random source is broken")
	}
	if err != nil {
		return fmt.Errorf("session: redis store: saving session: %w", err)
	}
	s.cookie.Set(w, s.cookie.Name, id, opts.Expiry, now)
	return nil
}

// saveIndexed writes the new session id and files it under each name of opts.Index, in one round trip. A
// failure to file it is returned as the save's failure: the browser gets no cookie for a session that
// EndSessions could not find (the stored session expires unused).
func (s *RedisStore) saveIndexed(ctx context.Context, id, sealed string, ttl time.Duration, opts session.SaveOptions, now time.Time) error {
	member := strconv.FormatInt(opts.Created.Unix(), 10) + ":" + id
	var set *redis.StatusCmd
	indexes := make([]*redis.Cmd, 0, len(opts.Index))
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		set = p.SetArgs(ctx, s.sessionKey(id), sealed, redis.SetArgs{Mode: "NX", TTL: ttl})
		for _, name := range opts.Index {
			indexes = append(indexes, s.index.Eval(ctx, p, []string{s.indexKey(name)}, member,
				opts.Expiry.UnixMilli(), now.UnixMilli(), ttl.Milliseconds()))
		}
		return nil
	})
	if set != nil && set.Err() != nil {
		return set.Err()
	}
	for _, cmd := range indexes {
		if cmd.Err() != nil {
			return fmt.Errorf("filing the session for EndSessions: %w", cmd.Err())
		}
	}
	return err
}

// EndSessions deletes the sessions filed under name (SaveOptions.Index) that were created at or before
// createdUpTo (all of them when it is zero), whichever browser holds them; see SessionEnder. Each Redis round
// trip is bounded by RedisOptions.Timeout. A session created after createdUpTo stays, and stays filed.
func (s *RedisStore) EndSessions(ctx context.Context, name string, createdUpTo time.Time) (int, error) {
	if name == "" {
		return 0, errors.New("session: redis store: end sessions: the name is empty")
	}
	key := s.indexKey(name)
	live := "(" + strconv.FormatInt(s.now().UnixMilli(), 10) // members whose session has not expired
	ended := 0
	var kept int64 // members left in place; being the first of what remains, the next read skips them
	for {
		listCtx, cancel := context.WithTimeout(ctx, s.timeout)
		members, err := s.client.ZRangeByScore(listCtx, key, &redis.ZRangeBy{Min: live, Max: "+inf", Offset: kept,
			Count: endBatch}).Result()
		cancel()
		if err != nil {
			return ended, fmt.Errorf("session: redis store: listing the sessions to end: %w", err)
		}
		n, left, err := s.endMembers(ctx, key, members, createdUpTo)
		ended += n
		kept += int64(left)
		if err != nil {
			return ended, err
		}
		if len(members) < endBatch {
			return ended, nil
		}
	}
}

// endMembers deletes the sessions of the index members created at or before createdUpTo and removes them from
// the index at key, in one round trip; it reports how many sessions it deleted and how many members it left.
func (s *RedisStore) endMembers(ctx context.Context, key string, members []string, createdUpTo time.Time) (ended, left int, err error) {
	var done []any
	var dels []*redis.IntCmd
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range members {
			created, id, ok := strings.Cut(m, ":")
			at, parseErr := strconv.ParseInt(created, 10, 64)
			if ok && parseErr == nil && !createdUpTo.IsZero() && at > createdUpTo.Unix() {
				left++
				continue
			}
			// One DEL per key rather than one DEL of many, so that Redis Cluster routes each to its slot.
			if ok && len(id) == sessionIDTextLen {
				dels = append(dels, p.Del(ctx, s.sessionKey(id)))
			}
			done = append(done, m)
		}
		if len(done) > 0 {
			p.ZRem(ctx, key, done...)
		}
		return nil
	})
	for _, d := range dels {
		ended += int(d.Val())
	}
	if err != nil {
		return ended, left, fmt.Errorf("session: redis store: ending sessions: %w", err)
	}
	return ended, left, nil
}

// Delete ends the request's session in Redis and expires the id cookie. The cookie is expired even when Redis
// fails, and the failure is returned.
func (s *RedisStore) Delete(w http.ResponseWriter, r *http.Request) error {
	s.cookie.Expire(w, s.cookie.Name)
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

// LockSession blocks until it holds the lock of the session that r's cookie names, shared by every replica that
// uses the same Redis and key prefix, or until r's context ends; see SessionLocker.
//
// The lock is the key "<prefix>lock:session:<id>", taken with SET NX PX under a random token, so that only its
// holder can renew or free it. While held it is renewed every third of RedisOptions.LockLease; if the holder
// crashes or loses Redis, the lease runs out and a waiter takes over. Waiters retry every 5 ms, growing to 50 ms.
// The lock is advisory: a holder cut off from Redis for longer than the lease is not told that it lost the lock.
func (s *RedisStore) LockSession(r *http.Request) (release func(), err error) {
	id, ok := s.requestID(r)
	if !ok {
		return nil, fmt.Errorf("session: redis lock: %w", session.ErrNoSession)
	}
	return s.lock(r.Context(), s.lockKey(id))
}

// lock takes the lock called key, waiting as long as ctx allows.
func (s *RedisStore) lock(ctx context.Context, key string) (func(), error) {
	token := rand.Text()
	wait := lockPollMin
	for {
		acquired, err := s.tryLock(ctx, key, token)
		if err != nil {
			return nil, err
		}
		if acquired {
			return s.hold(ctx, key, token), nil
		}
		// A random wait in [wait/2, wait]: waiters that arrived together do not retry together.
		t := time.NewTimer(wait/2 + mathrand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("session: redis lock: gave up waiting: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, lockPollMax)
	}
}

// tryLock makes one attempt to take the lock.
func (s *RedisStore) tryLock(ctx context.Context, key, token string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("session: redis lock: gave up waiting: %w", err)
	}
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := s.client.SetArgs(callCtx, key, token, redis.SetArgs{Mode: "NX", TTL: s.lease}).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil):
		return false, nil
	case ended(ctx) != nil:
		// The SET may have taken the lock before the caller gave up: free it rather than leave it to the lease.
		s.unlock(ctx, key, token)
		return false, fmt.Errorf("session: redis lock: gave up waiting: %w", ended(ctx))
	default:
		return false, fmt.Errorf("session: redis lock: taking the session lock: %w", err) // the key holds the session id: not for logs
	}
}

// ended returns ctx's error, or context.DeadlineExceeded once its deadline has passed: go-redis reports a socket
// deadline taken from ctx as an i/o timeout, which may come before ctx itself says that it is done.
func ended(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// hold renews the lease of a taken lock until the returned release frees it. Renewal and release run detached
// from ctx's cancellation: the lock belongs to the holder's work, which may outlive the request that took it.
func (s *RedisStore) hold(ctx context.Context, key, token string) func() {
	ctx = context.WithoutCancel(ctx)
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s.renew(ctx, key, token, stop)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-stopped // no renewal after the release
			s.unlock(ctx, key, token)
		})
	}
}

// renew extends the lease every third of it until stop is closed, the lock is found lost, or renewal has failed
// for a whole lease (by then the lock has expired in Redis, or Redis is gone).
func (s *RedisStore) renew(ctx context.Context, key, token string, stop <-chan struct{}) {
	tick := time.NewTicker(s.lease / 3)
	defer tick.Stop()
	renewed := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		callCtx, cancel := context.WithTimeout(ctx, s.timeout)
		n, err := s.renewLock.Run(callCtx, s.client, []string{key}, token, s.lease.Milliseconds()).Int()
		cancel()
		switch {
		case err == nil && n == 1:
			renewed = time.Now()
		case err == nil:
			return // expired, perhaps taken by another replica: not ours to extend
		case time.Since(renewed) >= s.lease:
			return
		}
	}
}

// unlock frees the lock if it still holds token. A failure is not reported: the lease frees the lock anyway.
func (s *RedisStore) unlock(ctx context.Context, key, token string) {
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	_ = s.freeLock.Run(callCtx, s.client, []string{key}, token).Err()
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
	id, ok := browsercookie.Request(r, s.cookie.Name)
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

func (s *RedisStore) lockKey(id string) string { return s.prefix + "lock:session:" + id }

// indexKey is the key of the index of the sessions filed under name. The name (a user or provider session id) is
// hashed: keys stay short whatever the provider's ids, and listing keys does not list users.
func (s *RedisStore) indexKey(name string) string {
	h := sha256.Sum256([]byte(name))
	return s.prefix + "index:" + base64.RawURLEncoding.EncodeToString(h[:])
}

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
		return nil, fmt.Errorf("%w (stored session record is malformed)", session.ErrNoSession)
	}
	return record[size+int(n):], nil
}

var (
	_ session.Store         = (*RedisStore)(nil)
	_ session.SessionLocker = (*RedisStore)(nil)
	_ session.SessionEnder  = (*RedisStore)(nil)
)
