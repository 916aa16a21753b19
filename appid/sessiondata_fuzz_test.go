package appid

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeSession checks the session format from both sides. Any bytes (data): decodeSession never panics, and
// what it accepts stops being accepted with one byte more (no trailing garbage) or one byte less. A session built
// from the other arguments: decodeSession(encode(s)) gives s back, field for field, and refuses every proper prefix
// and any trailing byte.
func FuzzDecodeSession(f *testing.F) {
	valid := (&sessionState{
		id: "sid",
		user: User{ID: "alice-id", Email: "alice@example.com", Name: "Alice", Roles: []string{"user"},
			Scopes: []string{"openid", "app/view"}, ExpiresAt: time.Unix(1_800_003_600, 0)},
		accessToken: "eyJ.access", refreshToken: "opaque-refresh",
		createdAt: time.Unix(1_800_000_000, 0), savedAt: time.Unix(1_800_000_100, 0),
	}).encode(nil)
	f.Add(valid, "alice-id", "alice@example.com", "Alice", "eyJ.access", "opaque-refresh", "user", "openid,app/view",
		int64(1_800_000_000), int64(1_800_000_100), int64(1_800_003_600))
	f.Add([]byte{}, "u", "", "", "", "", "", "", int64(0), int64(0), int64(0))
	f.Add([]byte{sessionFormatV1}, "ü\x00id", "", "Ünïcode ☃", "", "", ",,", ",", int64(-1), int64(-62135596800), int64(1<<62))
	f.Add(append(slices.Clone(valid), 0), "x", "e", "n", "a", "r", "a,b,c,d,e,f", "", int64(1), int64(2), int64(3))
	f.Add([]byte{sessionFormatV1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, "id", "", "", "", "", "", "", int64(0), int64(0), int64(0))
	f.Add([]byte{sessionFormatV1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, "id", "", "", "", "", "", "", int64(0), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, id, email, name, access, refresh, roles, scopes string, created, saved, expires int64) {
		if s, err := decodeSession(data); err == nil {
			if s.user.ID == "" {
				t.Fatal("accepted a session without a user id")
			}
			if _, err := decodeSession(append(slices.Clone(data), 0)); err == nil {
				t.Fatalf("accepted %q with a trailing byte", data)
			}
			if _, err := decodeSession(data[:len(data)-1]); err == nil {
				t.Fatalf("accepted %q without its last byte", data)
			}
		}

		if id == "" {
			return // encode is never given a session without a user
		}
		// Times before 1970 are written as 1970: sessions never hold them.
		created, saved, expires = max(created, 0), max(saved, 0), max(expires, 0)
		want := &sessionState{
			id: "sid-" + id,
			user: User{ID: id, Email: email, Name: name, Roles: splitList(roles), Scopes: splitList(scopes),
				ExpiresAt: time.Unix(expires, 0)},
			accessToken: access, refreshToken: refresh, createdAt: time.Unix(created, 0), savedAt: time.Unix(saved, 0),
			validatedAt: time.Unix(saved, 0), providerSID: name, idToken: access,
		}
		if email != "" {
			raw, _ := json.Marshal(map[string]string{"email": email})
			want.claims = string(raw)
		}
		enc := want.encode(nil)
		got, err := decodeSession(enc)
		if err != nil {
			t.Fatalf("decodeSession(encode(s)): %v", err)
		}
		if got.id != want.id || !got.validatedAt.Equal(want.validatedAt) || got.user.ID != id || got.user.Email != email || got.user.Name != name || got.accessToken != access ||
			got.refreshToken != refresh || got.providerSID != name || got.idToken != access || got.claims != want.claims || !slices.Equal(got.user.Roles, want.user.Roles) ||
			!slices.Equal(got.user.Scopes, want.user.Scopes) || !got.createdAt.Equal(want.createdAt) ||
			!got.savedAt.Equal(want.savedAt) || !got.user.ExpiresAt.Equal(want.user.ExpiresAt) {
			t.Fatalf("round trip changed the session:\n got %+v\nwant %+v", got, want)
		}
		if _, err := decodeSession(append(enc, 'x')); err == nil {
			t.Fatal("accepted an encoded session with trailing garbage")
		}
		// Every cut of a small session; of a large one (the fuzzer grows strings to many kilobytes), 512 cuts
		// across it and every cut of its last 64 bytes, so that one input costs linear, not quadratic, time.
		step := max(1, len(enc)/512)
		for i := 0; i < len(enc); i += step {
			if _, err := decodeSession(enc[:i]); err == nil {
				t.Fatalf("accepted the first %d of %d bytes of an encoded session", i, len(enc))
			}
		}
		for i := max(0, len(enc)-64); i < len(enc); i++ {
			if _, err := decodeSession(enc[:i]); err == nil {
				t.Fatalf("accepted the first %d of %d bytes of an encoded session", i, len(enc))
			}
		}
	})
}

// splitList turns "a,b" into a list as sessions hold them: nil when empty, at most maxListLen entries.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	l := strings.Split(s, ",")
	return l[:min(len(l), maxListLen)]
}
