package appid

import (
	"encoding/binary"
	"errors"
	"time"
)

// sessionFormatV1 tags the binary session encoding, so that a later format can tell old sessions apart.
const sessionFormatV1 = 1

// maxListLen bounds the number of roles or scopes a session may hold, against hostile or corrupt input.
const maxListLen = 256

var errBadSession = errors.New("appid: malformed session data")

// sessionState is what a session holds: the user, the tokens and the times that bound its life. It is decoded
// once per request with a single allocation for the struct and one for all of its strings.
type sessionState struct {
	user         User
	accessToken  string
	refreshToken string
	createdAt    time.Time // login time: the absolute lifetime runs from here
	savedAt      time.Time // last write: the idle timeout runs from here

	// Small backing arrays keep the common case (a few roles and scopes) free of extra allocations.
	roleBuf  [4]string
	scopeBuf [4]string
}

// encode appends the compact binary form of s to buf: a version byte, three times as unix seconds (uvarint),
// then length-prefixed strings.
func (s *sessionState) encode(buf []byte) []byte {
	buf = append(buf, sessionFormatV1)
	buf = binary.AppendUvarint(buf, uint64(s.createdAt.Unix()))
	buf = binary.AppendUvarint(buf, uint64(s.savedAt.Unix()))
	buf = binary.AppendUvarint(buf, uint64(s.user.ExpiresAt.Unix()))
	for _, v := range []string{s.user.ID, s.user.Email, s.user.Name, s.accessToken, s.refreshToken} {
		buf = appendString(buf, v)
	}
	for _, list := range [][]string{s.user.Roles, s.user.Scopes} {
		buf = binary.AppendUvarint(buf, uint64(len(list)))
		for _, v := range list {
			buf = appendString(buf, v)
		}
	}
	return buf
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// decodeSession parses what encode wrote.
func decodeSession(data []byte) (*sessionState, error) {
	if len(data) == 0 || data[0] != sessionFormatV1 {
		return nil, errBadSession
	}
	d := decoder{all: string(data), pos: 1}
	s := &sessionState{}
	s.createdAt = time.Unix(int64(d.uvarint()), 0)
	s.savedAt = time.Unix(int64(d.uvarint()), 0)
	s.user.ExpiresAt = time.Unix(int64(d.uvarint()), 0)
	s.user.ID = d.string()
	s.user.Email = d.string()
	s.user.Name = d.string()
	s.accessToken = d.string()
	s.refreshToken = d.string()
	s.user.Roles = d.list(s.roleBuf[:0])
	s.user.Scopes = d.list(s.scopeBuf[:0])
	if d.err || d.pos != len(d.all) || s.user.ID == "" {
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
