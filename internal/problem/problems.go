// Package problem joins the problems of a refused configuration, collected as appid.Problem values, into the
// message that the proxy and the command give for them, so that every part of appidgate collects problems in
// the one shape that package appid exports.
package problem

import (
	"errors"
	"strings"

	"github.com/appidgate/appidgate/appid"
)

// Join returns the problems' strings (see appid.Problem.String) separated by sep.
func Join(ps []appid.Problem, sep string) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Of returns the problems of err: those of an *appid.ConfigError, or err as one problem of the whole
// configuration; none for a nil err.
func Of(err error) []appid.Problem {
	if err == nil {
		return nil
	}
	if ce, ok := errors.AsType[*appid.ConfigError](err); ok {
		return ce.Problems
	}
	return []appid.Problem{{Reason: err.Error()}}
}
