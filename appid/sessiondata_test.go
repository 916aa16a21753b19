package appid

import (
	"reflect"
	"testing"
	"time"
)

func TestSessionEncodingRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	in := &sessionState{id: "sid", accessToken: "at", refreshToken: "rt", createdAt: now,
		savedAt: now.Add(time.Minute), validatedAt: now.Add(30 * time.Second), providerSID: "op-sid",
		idToken: "eyJ.id", claims: `{"email":"a@example.com","groups":["g"],"realm_access":{"roles":["r"]}}`}
	in.user = User{ID: "sub", Email: "a@example.com", Name: "Alice", ExpiresAt: now.Add(time.Hour),
		Roles: []string{"user", "admin", "a", "b", "c"}, Scopes: []string{"app/view"},
		Claims: map[string]any{"email": "a@example.com", "groups": []any{"g"},
			"realm_access": map[string]any{"roles": []any{"r"}}}}
	out, err := decodeSession(in.encode(nil))
	if err != nil {
		t.Fatalf("decodeSession: %v", err)
	}
	if !reflect.DeepEqual(out.user, in.user) || out.id != "sid" || out.accessToken != "at" ||
		out.refreshToken != "rt" || !out.createdAt.Equal(in.createdAt) || !out.savedAt.Equal(in.savedAt) ||
		!out.validatedAt.Equal(in.validatedAt) || out.providerSID != "op-sid" || out.idToken != "eyJ.id" ||
		out.claims != in.claims {
		t.Errorf("round trip changed the session:\n got %+v\nwant %+v", out, in)
	}
}

// TestDecodeSessionReadsVersion1: sessions written before session ids keep working after an upgrade; without an
// id or a validation time they are due for revalidation at once, which gives them both.
func TestDecodeSessionReadsVersion1(t *testing.T) {
	t.Parallel()
	// Version 1: created, saved, expires; then sub, email, name, access token, refresh token; roles; scopes.
	v1 := []byte{sessionFormatV1, 10, 20, 30, 3, 's', 'u', 'b', 0, 0, 0, 2, 'r', 't', 1, 4, 'u', 's', 'e', 'r', 0}
	st, err := decodeSession(v1)
	if err != nil {
		t.Fatalf("decodeSession(v1): %v", err)
	}
	if st.user.ID != "sub" || st.refreshToken != "rt" || st.id != "" || !st.validatedAt.IsZero() ||
		st.createdAt.Unix() != 10 || st.savedAt.Unix() != 20 || st.user.ExpiresAt.Unix() != 30 ||
		len(st.user.Roles) != 1 || st.user.Roles[0] != "user" {
		t.Errorf("decoded %+v", st)
	}
}

// TestDecodeSessionReadsVersion2: sessions written before the provider's session id, the id token and the
// claims were kept decode without them.
func TestDecodeSessionReadsVersion2(t *testing.T) {
	t.Parallel()
	// Version 2: created, saved, validated, expires; id, sub, email, name, access, refresh; roles; scopes.
	v2 := []byte{sessionFormatV2, 10, 20, 25, 30, 1, 'i', 3, 's', 'u', 'b', 0, 0, 0, 0, 0, 0}
	st, err := decodeSession(v2)
	if err != nil {
		t.Fatalf("decodeSession(v2): %v", err)
	}
	if st.id != "i" || st.user.ID != "sub" || st.validatedAt.Unix() != 25 || st.providerSID != "" ||
		st.user.Claims != nil {
		t.Errorf("decoded %+v", st)
	}
	if _, err := decodeSession(append(v2, 0, 0, 0)); err == nil {
		t.Error("a version 2 session with version 3 fields appended was accepted")
	}
}

// TestDecodedListsAreClipped: a handler appending to its user's roles must not write into the decoded
// session's own buffer, which other requests may share.
func TestDecodedListsAreClipped(t *testing.T) {
	t.Parallel()
	st, err := decodeSession((&sessionState{id: "i", user: User{ID: "sub", Roles: []string{"user"},
		Scopes: []string{"view"}}}).encode(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cap(st.user.Roles) != 1 || cap(st.user.Scopes) != 1 {
		t.Errorf("decoded lists have spare capacity: roles %d, scopes %d", cap(st.user.Roles), cap(st.user.Scopes))
	}
}

func TestDecodeSessionRefusesMalformedData(t *testing.T) {
	t.Parallel()
	good := (&sessionState{id: "i", user: User{ID: "sub", Roles: []string{"user"}}}).encode(nil)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{9}, good[1:]...)},
		{"truncated", good[:len(good)-2]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"huge length", []byte{sessionFormatV1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"no subject", (&sessionState{id: "i"}).encode(nil)},
		{"no session id", (&sessionState{user: User{ID: "sub"}}).encode(nil)},
		{"claims not an object", (&sessionState{id: "i", user: User{ID: "sub"}, claims: "[1]"}).encode(nil)},
		{"claims not json", (&sessionState{id: "i", user: User{ID: "sub"}, claims: "{"}).encode(nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeSession(tc.data); err == nil {
				t.Error("decodeSession accepted malformed data")
			}
		})
	}
}
