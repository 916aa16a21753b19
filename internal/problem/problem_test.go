package problem

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/appidgate/appidgate/appid"
)

func strs(ps []appid.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestOf(t *testing.T) {
	t.Parallel()
	problems := &appid.ConfigError{Problems: []appid.Problem{
		{Setting: "APPID_CLIENT_ID", Reason: "required, not set"},
		{Setting: "APPIDGATE_CLOCK_SKEW", Reason: "expected at most 5m0s, got 1h0m0s"},
	}}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"no error", nil, nil},
		{"configuration error", problems, []string{"APPID_CLIENT_ID: required, not set", "APPIDGATE_CLOCK_SKEW: expected at most 5m0s, got 1h0m0s"}},
		{"wrapped configuration error", fmt.Errorf("starting: %w", problems), []string{"APPID_CLIENT_ID: required, not set", "APPIDGATE_CLOCK_SKEW: expected at most 5m0s, got 1h0m0s"}},
		{"other error", errors.New("appid: something else"), []string{"appid: something else"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := strs(Of(tc.err)); !slices.Equal(got, tc.want) {
				t.Errorf("Of = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ps   []appid.Problem
		sep  string
		want string
	}{
		{"none", nil, "; ", ""},
		{"one", []appid.Problem{{Setting: "--addr", Reason: `expected host:port, got "x"`}}, "; ", `--addr: expected host:port, got "x"`},
		{"a problem of the whole, then a setting's", []appid.Problem{{Reason: "Auth is required"},
			{Setting: "PORT", Reason: "expected a port number"}}, "\n  ", "Auth is required\n  PORT: expected a port number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Join(tc.ps, tc.sep); got != tc.want {
				t.Errorf("Join = %q, want %q", got, tc.want)
			}
		})
	}
}
