package appid

import (
	"reflect"
	"testing"
	"time"
)

func TestSessionEncodingRoundTrip(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	in := &sessionState{accessToken: "at", refreshToken: "rt", createdAt: now, savedAt: now.Add(time.Minute)}
	in.user = User{ID: "sub", Email: "a@example.com", Name: "Alice", ExpiresAt: now.Add(time.Hour),
		Roles: []string{"user", "admin", "a", "b", "c"}, Scopes: []string{"app/view"}}
	out, err := decodeSession(in.encode(nil))
	if err != nil {
		t.Fatalf("decodeSession: %v", err)
	}
	if !reflect.DeepEqual(out.user, in.user) || out.accessToken != "at" || out.refreshToken != "rt" ||
		!out.createdAt.Equal(in.createdAt) || !out.savedAt.Equal(in.savedAt) {
		t.Errorf("round trip changed the session:\n got %+v\nwant %+v", out, in)
	}
}

func TestDecodeSessionRefusesMalformedData(t *testing.T) {
	good := (&sessionState{user: User{ID: "sub", Roles: []string{"user"}}}).encode(nil)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{9}, good[1:]...)},
		{"truncated", good[:len(good)-2]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"huge length", []byte{sessionFormatV1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"no subject", (&sessionState{}).encode(nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeSession(tc.data); err == nil {
				t.Error("decodeSession accepted malformed data")
			}
		})
	}
}
