package appid

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestClaimAt(t *testing.T) {
	t.Parallel()
	var claims map[string]any
	if err := json.Unmarshal([]byte(`{
		"roles": ["user"],
		"cognito:groups": ["admins"],
		"https://example.com/roles": ["namespaced"],
		"realm_access": {"roles": ["realm-admin"]},
		"resource_access": {"my.app": {"roles": ["client-role"]}},
		"a.b": {"c": "dotted-top"},
		"a": {"b": {"c": "nested"}},
		"email": "alice@example.com",
		"n": 3
	}`), &claims); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want []string
		ok   bool
	}{
		{"roles", []string{"user"}, true},
		{"cognito:groups", []string{"admins"}, true},
		{"https://example.com/roles", []string{"namespaced"}, true},
		{"realm_access.roles", []string{"realm-admin"}, true},
		{"resource_access.my.app.roles", []string{"client-role"}, true},
		{"a.b.c", []string{"dotted-top"}, true}, // the whole name first, then shorter prefixes
		{"email", []string{"alice@example.com"}, true},
		{"n", nil, true},
		{"realm_access.groups", nil, false},
		{"email.x", nil, false},
		{"missing", nil, false},
		{"", nil, false},
		{".", nil, false},
	}
	for _, tc := range tests {
		v, ok := claimAt(claims, tc.path)
		if got := claimStrings(v, false); ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("claimAt(%q) = %v, %v; want %v, %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

func TestClaimStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v     any
		split bool
		want  []string
	}{
		{"a b", false, []string{"a b"}},
		{"a  b", true, []string{"a", "b"}},
		{"", false, nil},
		{[]any{"a", 1, "b", nil}, false, []string{"a", "b"}},
		{map[string]any{"a": "b"}, false, nil},
		{true, false, nil},
	}
	for _, tc := range tests {
		if got := claimStrings(tc.v, tc.split); !slices.Equal(got, tc.want) {
			t.Errorf("claimStrings(%#v, %v) = %q, want %q", tc.v, tc.split, got, tc.want)
		}
	}
}
