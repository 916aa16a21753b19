package settings

import (
	"slices"
	"testing"
	"time"
)

// TestReaderKinds: each kind reads its values and words its problems one way, "NAME: reason".
func TestReaderKinds(t *testing.T) {
	env := map[string]string{
		"APPIDGATE_INTROSPECT":            " true ",
		"APPIDGATE_KEEP_ACCESS_TOKEN":     "maybe",
		"APPIDGATE_SESSION_MAX_AGE":       "2h",
		"APPIDGATE_SESSION_IDLE_TIMEOUT":  "forever",
		"APPIDGATE_SHUTDOWN_TIMEOUT":      "soon",
		"PORT":                            "http",
		"APPIDGATE_LISTEN_ADDR":           "5000",
		"APPIDGATE_METRICS_ADDR":          ":9090",
		"APPIDGATE_SESSION_PREVIOUS_KEYS": " a, ,b,",
		"APPIDGATE_ROLES_CLAIM":           "  groups ",
	}
	var problems []string
	r := NewReader(func(name string) (string, bool) { v, ok := env[name]; return v, ok },
		func(name, reason string) { problems = append(problems, name+": "+reason) })
	if v, ok := r.Bool("APPIDGATE_INTROSPECT"); !v || !ok {
		t.Errorf("Bool(true) = %v, %v", v, ok)
	}
	if v, ok := r.Bool("APPIDGATE_KEEP_ACCESS_TOKEN"); v || ok {
		t.Errorf("Bool(maybe) = %v, %v", v, ok)
	}
	if v, ok := r.Bool("APPIDGATE_LOCAL_IDP"); v || ok {
		t.Errorf("Bool(unset) = %v, %v", v, ok)
	}
	if d, ok := r.Duration("APPIDGATE_SESSION_MAX_AGE"); d != 2*time.Hour || !ok {
		t.Errorf("Duration(2h) = %s, %v", d, ok)
	}
	r.Duration("APPIDGATE_SESSION_IDLE_TIMEOUT")
	r.Duration("APPIDGATE_SHUTDOWN_TIMEOUT")
	r.Port("PORT")
	r.Address("APPIDGATE_LISTEN_ADDR")
	if got := r.Address("APPIDGATE_METRICS_ADDR"); got != ":9090" {
		t.Errorf("Address = %q", got)
	}
	if got := r.List("APPIDGATE_SESSION_PREVIOUS_KEYS"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("List = %q", got)
	}
	if got := r.String("APPIDGATE_ROLES_CLAIM"); got != "groups" {
		t.Errorf("String = %q", got)
	}
	want := []string{
		`APPIDGATE_KEEP_ACCESS_TOKEN: expected true or false, got "maybe"`,
		`APPIDGATE_SESSION_IDLE_TIMEOUT: expected a duration such as 1h, got "forever"`,
		`APPIDGATE_SHUTDOWN_TIMEOUT: expected a duration such as 20s, got "soon"`,
		`PORT: expected a port number, got "http"`,
		`APPIDGATE_LISTEN_ADDR: expected host:port, got "5000"`,
	}
	if !slices.Equal(problems, want) {
		t.Errorf("problems\n  %q\nwant\n  %q", problems, want)
	}
}

// TestReaderRefusesUnknownNames: reading a variable the table lacks panics, so that no setting goes undocumented.
func TestReaderRefusesUnknownNames(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("reading APPIDGATE_NOT_A_SETTING did not panic")
		}
	}()
	NewReader(func(string) (string, bool) { return "", false }, nil).String("APPIDGATE_NOT_A_SETTING")
}
