package settings

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Reader reads settings through a lookup function (os.LookupEnv in production), each value trimmed of spaces,
// and reports each value it cannot use through its report function, in one wording per kind. It reads only
// the table's variables: asking for another name panics, so that a setting read without its row fails every
// test that reaches it.
type Reader struct {
	lookup func(string) (string, bool)
	report func(name, reason string)
}

// NewReader returns a Reader over lookup that passes problems to report; a nil report drops them.
func NewReader(lookup func(string) (string, bool), report func(name, reason string)) *Reader {
	if report == nil {
		report = func(string, string) {}
	}
	return &Reader{lookup: lookup, report: report}
}

// get returns the trimmed value of the variable name, panicking when the table has no such variable.
func (r *Reader) get(name string) string {
	if _, ok := Lookup(name); !ok {
		panic("settings: " + name + " is read but not in the settings table (internal/settings/table.go)")
	}
	v, _ := r.lookup(name)
	return strings.TrimSpace(v)
}

// String returns the value of name, or "" when it is unset.
func (r *Reader) String(name string) string { return r.get(name) }

// List returns the comma-separated values of name, each trimmed, without empty ones.
func (r *Reader) List(name string) []string {
	var out []string
	for v := range strings.SplitSeq(r.get(name), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Bool returns the value of name and whether it is set to one: true or false (also 1, 0, t, f and their
// capitalized forms, as strconv.ParseBool takes them). Any other value is a problem.
func (r *Reader) Bool(name string) (v, ok bool) {
	s := r.get(name)
	if s == "" {
		return false, false
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		r.report(name, fmt.Sprintf("expected true or false, got %q", s))
		return false, false
	}
	return v, true
}

// Duration returns the value of name and whether it is set to one, such as 90s, 30m or 1h. Any other value is a
// problem, whose example is the setting's default.
func (r *Reader) Duration(name string) (time.Duration, bool) {
	s := r.get(name)
	if s == "" {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		r.report(name, fmt.Sprintf("expected a duration such as %s, got %q", durationExample(name), s))
		return 0, false
	}
	return d, true
}

// durationExample is the setting's default when that is a duration, else 30s.
func durationExample(name string) string {
	s, _ := Lookup(name)
	if _, err := time.ParseDuration(s.Default); err == nil {
		return s.Default
	}
	return "30s"
}

// Port returns the value of name, or "" when unset; a value that is not a port number is a problem.
func (r *Reader) Port(name string) string {
	s := r.get(name)
	if n, err := strconv.Atoi(s); s != "" && (err != nil || n < 0 || n > 65535) {
		r.report(name, fmt.Sprintf("expected a port number, got %q", s))
	}
	return s
}

// Address returns the value of name, or "" when unset; a value that is not host:port is a problem.
func (r *Reader) Address(name string) string {
	s := r.get(name)
	if s != "" {
		if _, _, err := net.SplitHostPort(s); err != nil {
			r.report(name, fmt.Sprintf("expected host:port, got %q", s))
		}
	}
	return s
}
