package appid

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"time"
)

// Session encodings, tagged by their first byte so that a later format can tell old sessions apart. Version 1
// (before session ids and revalidation) still decodes: such a session has no id and is due for revalidation,
// which writes it anew as the current version. Version 2 lacks the provider's session id, the id token and the
// claims, which version 3 appends. Version 4 appends flags (sessionAnonymous); it is written only for a session
// that sets one, so that every other session stays readable by releases that know version 3 at most.
const (
	sessionFormatV1 = 1
	sessionFormatV2 = 2
	sessionFormatV3 = 3
	sessionFormatV4 = 4
)

// sessionAnonymous is the version 4 flag of App ID's anonymous users (User.Anonymous).
const sessionAnonymous = 1

// maxListLen bounds the number of roles or scopes a session may hold, against hostile or corrupt input.
const maxListLen = 256

var errBadSession = errors.New("appid: malformed session data")

// sessionState is what a session holds: the user, the tokens and the times that bound its life. It is decoded
// with a single allocation for the struct and one for all of its strings. A decoded state may be shared by
// concurrent requests (see verifiedSessions): it is never changed after decoding; a request that changes a time
// changes its own copy.
type sessionState struct {
	// id names the session from login to logout, across refreshes: ended sessions and the refresh lock are
	// keyed by it. It is random, and never leaves the sealed session.
	id           string
	user         User
	accessToken  string
	refreshToken string
	createdAt    time.Time // login time: the absolute lifetime runs from here
	savedAt      time.Time // last write: the idle timeout runs from here
	validatedAt  time.Time // when the provider last issued tokens for it (login or refresh)
	// providerSID is the provider's session id (the id token's sid claim), which back-channel logout names.
	providerSID string
	// idToken is the raw id token, kept only when logout needs it as id_token_hint.
	idToken string
	// claims is the JSON object decoded into user.Claims: the identity claims the session keeps for policies.
	claims string

	// Small backing arrays keep the common case (a few roles and scopes) free of extra allocations.
	roleBuf  [4]string
	scopeBuf [4]string
}

// newSessionID returns a random session id: 128 bits, base64url.
func newSessionID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// encode appends the compact binary form of s to buf: a version byte, four times as unix seconds (uvarint),
// then length-prefixed strings, and for version 4 the flags (uvarint).
func (s *sessionState) encode(buf []byte) []byte {
	var flags uint64
	if s.user.Anonymous {
		flags |= sessionAnonymous
	}
	if flags == 0 {
		buf = append(buf, sessionFormatV3)
	} else {
		buf = append(buf, sessionFormatV4)
	}
	for _, t := range []time.Time{s.createdAt, s.savedAt, s.validatedAt, s.user.ExpiresAt} {
		buf = binary.AppendUvarint(buf, uint64(max(t.Unix(), 0)))
	}
	for _, v := range []string{s.id, s.user.ID, s.user.Email, s.user.Name, s.accessToken, s.refreshToken} {
		buf = appendString(buf, v)
	}
	for _, list := range [][]string{s.user.Roles, s.user.Scopes} {
		buf = binary.AppendUvarint(buf, uint64(len(list)))
		for _, v := range list {
			buf = appendString(buf, v)
		}
	}
	for _, v := range []string{s.providerSID, s.idToken, s.claims} {
		buf = appendString(buf, v)
	}
	if flags != 0 {
		buf = binary.AppendUvarint(buf, flags)
	}
	return buf
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// decodeSession parses what encode wrote, or a session of an earlier version.
func decodeSession(data []byte) (*sessionState, error) {
	if len(data) == 0 || data[0] < sessionFormatV1 || data[0] > sessionFormatV4 {
		return nil, errBadSession
	}
	v2, v3 := data[0] >= sessionFormatV2, data[0] >= sessionFormatV3
	d := decoder{all: string(data), pos: 1}
	s := &sessionState{}
	s.createdAt = d.time()
	s.savedAt = d.time()
	if v2 {
		s.validatedAt = d.time()
	}
	s.user.ExpiresAt = d.time()
	if v2 {
		s.id = d.string()
	}
	s.user.ID = d.string()
	s.user.Email = d.string()
	s.user.Name = d.string()
	s.accessToken = d.string()
	s.refreshToken = d.string()
	// Clipped, so that a handler appending to its User's lists never writes into a shared state's buffers.
	s.user.Roles = slices.Clip(d.list(s.roleBuf[:0]))
	s.user.Scopes = slices.Clip(d.list(s.scopeBuf[:0]))
	if v3 {
		s.providerSID = d.string()
		s.idToken = d.string()
		s.claims = d.string()
		if s.claims != "" && json.Unmarshal([]byte(s.claims), &s.user.Claims) != nil {
			return nil, errBadSession
		}
	}
	if data[0] >= sessionFormatV4 {
		flags := d.uvarint()
		if flags&^sessionAnonymous != 0 {
			return nil, errBadSession
		}
		s.user.Anonymous = flags&sessionAnonymous != 0
	}
	if d.err || d.pos != len(d.all) || s.user.ID == "" || (v2 && s.id == "") {
		return nil, errBadSession
	}
	return s, nil
}

// decoder reads from one string so that every decoded field shares its memory.
type decoder struct {
	all string
	pos int
	err bool
}

func (d *decoder) uvarint() uint64 {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.pos >= len(d.all) {
			break
		}
		b := d.all[d.pos]
		d.pos++
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
	d.err = true
	return 0
}

func (d *decoder) time() time.Time {
	return time.Unix(int64(min(d.uvarint(), math.MaxInt64)), 0)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err || n > uint64(len(d.all)-d.pos) {
		d.err = true
		return ""
	}
	s := d.all[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

func (d *decoder) list(dst []string) []string {
	n := d.uvarint()
	if d.err || n > maxListLen {
		d.err = true
		return nil
	}
	if n == 0 {
		return nil
	}
	for i := uint64(0); i < n && !d.err; i++ {
		dst = append(dst, d.string())
	}
	return dst
}
