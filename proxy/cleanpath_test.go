package proxy

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		changed        bool
		err            error
	}{
		{"root", "/", "/", false, nil},
		{"empty is root", "", "/", false, nil},
		{"plain", "/admin/users", "/admin/users", false, nil},
		{"trailing slash kept", "/static/", "/static/", false, nil},
		{"query dropped", "/admin?x=/public", "/admin", false, nil},
		{"fragment dropped", "/admin#/public", "/admin", false, nil},
		{"case kept", "/PUBLIC", "/PUBLIC", false, nil},
		{"double slash", "//admin", "/admin", true, nil},
		{"inner double slash", "/a//b///c", "/a/b/c", true, nil},
		{"dot", "/./admin", "/admin", true, nil},
		{"dot dot", "/public/../admin", "/admin", true, nil},
		{"dot dot at end keeps slash", "/public/..", "/", true, nil},
		{"dot at end keeps slash", "/admin/.", "/admin/", true, nil},
		{"above root", "/../../admin", "/admin", true, nil},
		{"dotted names are names", "/a/.../b/.x/..y", "/a/.../b/.x/..y", false, nil},
		{"encoded dots", "/public/%2e%2e/admin", "/admin", true, nil},
		{"mixed encoded dots", "/public/.%2E/admin", "/admin", true, nil},
		{"escape decoded once", "/st%61tic/a%20b", "/static/a b", false, nil},
		{"percent literal", "/100%25", "/100%", false, nil},
		{"utf-8 kept", "/caf%C3%A9/", "/café/", false, nil},
		{"lookalike letters are other names", "/publ%C4%B1c", "/publıc", false, nil},
		{"encoded slash", "/public%2f..%2fadmin", "", false, errPathEncodedSlash},
		{"encoded slash upper", "/a%2Fb", "", false, errPathEncodedSlash},
		{"double encoding", "/public/%252e%252e/admin", "", false, errPathDoubleEscape},
		{"double encoding of slash", "/a%252fb", "", false, errPathDoubleEscape},
		{"semicolon", "/admin;/public", "", false, errPathSemicolon},
		{"dot dot semicolon", "/public/..;/admin", "", false, errPathSemicolon},
		{"encoded semicolon", "/admin%3b/x", "", false, errPathSemicolon},
		{"backslash", "/public\\..\\admin", "", false, errPathBackslash},
		{"encoded backslash", "/public%5c..%5cadmin", "", false, errPathBackslash},
		{"NUL", "/admin%00.html", "", false, errPathControl},
		{"newline", "/a%0d%0aX-Forwarded-User:%20x", "", false, errPathControl},
		{"DEL", "/a%7f", "", false, errPathControl},
		{"C1 control", "/a%C2%85", "", false, errPathControl},
		{"malformed escape", "/a%zz", "", false, errPathBadEscape},
		{"truncated escape", "/a%2", "", false, errPathBadEscape},
		{"overlong slash", "/public%c0%af..%c0%afadmin", "", false, errPathBadUTF8},
		{"invalid utf-8", "/a%ff", "", false, errPathBadUTF8},
		{"fullwidth solidus", "/public%EF%BC%8F..%EF%BC%8Fadmin", "", false, errPathLookalike},
		{"fullwidth full stop", "/public/%EF%BC%8E%EF%BC%8E/admin", "", false, errPathLookalike},
		{"two dot leader", "/public/%E2%80%A5/admin", "", false, errPathLookalike},
		{"not absolute", "admin", "", false, errPathNotAbsolute},
		{"asterisk", "*", "", false, errPathNotAbsolute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, err := CleanPath(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("CleanPath(%q) error = %v, want %v", tc.in, err, tc.err)
			}
			if got != tc.want || changed != tc.changed {
				t.Errorf("CleanPath(%q) = %q, %v; want %q, %v", tc.in, got, changed, tc.want, tc.changed)
			}
		})
	}
}

func TestCleanPathErrorNamesComponent(t *testing.T) {
	t.Parallel()
	_, _, err := CleanPath("/a%2fb")
	if err == nil || !strings.HasPrefix(err.Error(), "proxy: ") {
		t.Fatalf("err = %v, want one starting with \"proxy: \"", err)
	}
}

func TestCleanPathLong(t *testing.T) {
	t.Parallel()
	long := "/public/" + strings.Repeat("a/", 200_000) + strings.Repeat("../", 200_001) + "admin"
	got, changed, err := CleanPath(long)
	if err != nil || got != "/admin" || !changed {
		t.Fatalf("CleanPath(long) = %q, %v, %v; want /admin, true, nil", got, changed, err)
	}
	plain := "/public/" + strings.Repeat("segment/", 100_000)
	if got, _, err := CleanPath(plain); err != nil || got != plain {
		t.Fatalf("CleanPath(long clean path) changed it: err %v", err)
	}
}

func TestCleanPathDoesNotAllocateForCleanPaths(t *testing.T) {
	for _, p := range []string{"/", "/auth_route", "/api/v1/users/42", "/static/app.js?v=3"} {
		if n := testing.AllocsPerRun(100, func() { _, _, _ = CleanPath(p) }); n != 0 {
			t.Errorf("CleanPath(%q): %v allocations, want 0", p, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _, _ = CleanPath("/a%2fb") }); n != 0 {
		t.Errorf("refusing a path: %v allocations, want 0", n)
	}
}

// FuzzCleanPath checks that what CleanPath returns is clean: cleaning it again changes nothing.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "//a/./b/../c/", "/a%2e%2e/%2e", "/a%25", "/é/..", "/a?b#c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		clean, _, err := CleanPath(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(clean, "/") {
			t.Fatalf("CleanPath(%q) = %q, not absolute", s, clean)
		}
		escaped := (&url.URL{Path: clean}).EscapedPath()
		again, changed, err := CleanPath(escaped)
		if err != nil || again != clean || changed {
			t.Fatalf("CleanPath(%q) = %q; cleaning %q again gives %q, %v, %v", s, clean, escaped, again, changed, err)
		}
	})
}
