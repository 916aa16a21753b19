package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Sealed value format, version 1, before base64url (RawURLEncoding):
//
//	version (1 byte, = 1) | key id (4 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext and tag (16 bytes)
//
// The GCM plaintext is expiry (8 bytes, big-endian Unix nanoseconds) followed by the value, and the GCM additional
// data is version | key id | purpose. The key id is derived from the secret with HKDF, so Open finds the key without
// trying every one, and the purpose binds a value to the one place it was sealed for.
const (
	codecVersion = 1
	keyIDLen     = 4
	nonceLen     = 12
	expiryLen    = 8
	tagLen       = 16
	headerLen    = 1 + keyIDLen + nonceLen

	// MinSecretLen is the shortest secret NewCodec accepts, in bytes.
	MinSecretLen = 16

	// Distinct HKDF info strings keep the encryption key and the public key id independent.
	hkdfInfoKey   = "appidgate/session codec v1 AES-256-GCM key"
	hkdfInfoKeyID = "appidgate/session codec v1 key id"

	// maxExpiryUnix (2200-01-01) keeps expiries well inside the int64 Unix nanoseconds that store them,
	// which end in 2262.
	maxExpiryUnix = 7258118400
)

// Codec seals small values (sessions, login state) with AES-256-GCM so that they can travel through the browser or
// rest in a shared store: the holder can neither read nor alter them, and they stop opening at their expiry.
//
// Keys are derived with HKDF-SHA256 from one or more secrets. The first secret seals; every secret opens, so a new
// secret is rolled out by putting it first and the old one is retired by removing it. A Codec is safe for
// concurrent use.
type Codec struct {
	keys []codecKey // keys[0] seals
}

// codecKey is one secret's AEAD and the id that names it in sealed values.
type codecKey struct {
	id   [keyIDLen]byte
	aead cipher.AEAD
}

// NewCodec returns a Codec that seals with secrets[0] and opens with any of secrets. Each secret must be at least
// MinSecretLen bytes of high-entropy material (for example 32 random bytes).
func NewCodec(secrets ...[]byte) (*Codec, error) {
	if len(secrets) == 0 {
		return nil, errors.New("session: codec needs at least one secret, got none")
	}
	c := &Codec{keys: make([]codecKey, 0, len(secrets))}
	for i, secret := range secrets {
		if len(secret) < MinSecretLen {
			return nil, fmt.Errorf("session: codec secret %d is %d bytes, want at least %d", i, len(secret), MinSecretLen)
		}
		key, err := hkdf.Key(sha256.New, secret, nil, hkdfInfoKey, 32)
		if err != nil {
			return nil, fmt.Errorf("session: codec secret %d: deriving key: %w", i, err)
		}
		id, err := hkdf.Key(sha256.New, secret, nil, hkdfInfoKeyID, keyIDLen)
		if err != nil {
			return nil, fmt.Errorf("session: codec secret %d: deriving key id: %w", i, err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("session: codec secret %d: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("session: codec secret %d: %w", i, err)
		}
		k := codecKey{aead: aead}
		copy(k.id[:], id)
		for j, other := range c.keys {
			// Open picks the key by id, so two different secrets must not share one (a 1 in 2^32 chance).
			if other.id == k.id && string(secrets[j]) != string(secret) {
				return nil, fmt.Errorf("session: codec secrets %d and %d derive the same key id %x, replace one", j, i, k.id)
			}
		}
		c.keys = append(c.keys, k)
	}
	return c, nil
}

// Seal encrypts and authenticates plaintext for purpose (for example "session" or "login-state"), valid until
// expiry, with the first secret. The result is base64url without padding, safe in cookies and URLs.
func (c *Codec) Seal(purpose string, plaintext []byte, expiry time.Time) (string, error) {
	if purpose == "" {
		return "", errors.New("session: codec seal: purpose is empty")
	}
	if expiry.IsZero() {
		return "", errors.New("session: codec seal: expiry is zero, every sealed value must expire")
	}
	if u := expiry.Unix(); u < 0 || u > maxExpiryUnix {
		return "", fmt.Errorf("session: codec seal: expiry %s is outside the years 1970 to 2200", expiry.Format(time.RFC3339))
	}
	k := &c.keys[0]
	buf := make([]byte, headerLen, headerLen+expiryLen+len(plaintext)+tagLen)
	buf[0] = codecVersion
	copy(buf[1:], k.id[:])
	if _, err := rand.Read(buf[1+keyIDLen : headerLen]); err != nil {
		return "", fmt.Errorf("session: codec seal: reading random nonce: %w", err)
	}
	msg := binary.BigEndian.AppendUint64(make([]byte, 0, expiryLen+len(plaintext)), uint64(expiry.UnixNano()))
	msg = append(msg, plaintext...)
	ad := append(buf[:1+keyIDLen:1+keyIDLen], purpose...)
	buf = k.aead.Seal(buf, buf[1+keyIDLen:headerLen], msg, ad)
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// Open authenticates and decrypts a value that Seal made for the same purpose and returns its plaintext.
// A value that was altered, sealed for another purpose or with an unknown secret, malformed, or expired at now
// gives an error wrapping ErrNoSession; one sealed with a secret c does not have also wraps ErrUnknownKey.
//
// Open allocates once: the returned slice shares that buffer and the caller may keep it.
func (c *Codec) Open(purpose string, sealed string, now time.Time) ([]byte, error) {
	if purpose == "" {
		return nil, errors.New("session: codec open: purpose is empty")
	}
	// One buffer holds the decoded value and, after it, the additional data, so that opening in place
	// costs a single allocation.
	maxLen := base64.RawURLEncoding.DecodedLen(len(sealed))
	if maxLen < headerLen+expiryLen+tagLen {
		return nil, fmt.Errorf("%w (sealed value is %d characters, too short)", ErrNoSession, len(sealed))
	}
	buf := make([]byte, maxLen, maxLen+1+keyIDLen+len(purpose))
	n, err := base64.RawURLEncoding.Decode(buf, []byte(sealed))
	if err != nil {
		return nil, fmt.Errorf("%w (sealed value is not base64url)", ErrNoSession)
	}
	raw := buf[:n]
	if raw[0] != codecVersion {
		return nil, fmt.Errorf("%w (sealed value has format version %d, want %d)", ErrNoSession, raw[0], codecVersion)
	}
	ad := append(buf[n:n], raw[:1+keyIDLen]...)
	ad = append(ad, purpose...)
	nonce := raw[1+keyIDLen : headerLen]
	ciphertext := raw[headerLen:]

	k := c.key([keyIDLen]byte(raw[1 : 1+keyIDLen]))
	if k == nil {
		return nil, fmt.Errorf("%w: %w (key id %x)", ErrNoSession, ErrUnknownKey, raw[1:1+keyIDLen])
	}
	msg, err := k.aead.Open(ciphertext[:0], nonce, ciphertext, ad)
	if err != nil {
		return nil, fmt.Errorf("%w (sealed value failed authentication for purpose %q)", ErrNoSession, purpose)
	}
	expiry := time.Unix(0, int64(binary.BigEndian.Uint64(msg)))
	if !now.Before(expiry) {
		return nil, fmt.Errorf("%w (sealed value expired at %s)", ErrNoSession, expiry.UTC().Format(time.RFC3339))
	}
	return msg[expiryLen:len(msg):len(msg)], nil
}

// key returns the key with the given id, or nil. NewCodec guarantees that ids are unique among distinct secrets.
func (c *Codec) key(id [keyIDLen]byte) *codecKey {
	for i := range c.keys {
		if c.keys[i].id == id {
			return &c.keys[i]
		}
	}
	return nil
}
