package settings

import (
	"slices"
	"strings"
)

// checkedPrefixes are the beginnings of variable names that Unknown looks at: appidgate's own prefixes and the
// beginnings of the reference's names without one. Everything else in the environment (PATH, HOME, Code
// Engine's CE_*) belongs to someone else.
var checkedPrefixes = []string{"APPIDGATE_", "APPID_", "SESSION_SECRET", "IBM_CLOUD_", "IAM_TOKEN"}

// UnknownSetting is a variable that looks like a setting but is none, most likely a typo.
type UnknownSetting struct {
	Name string
	// Suggestion is the closest known setting, or "" when none is close.
	Suggestion string
}

// String returns "unknown setting NAME, did you mean SETTING?", without the question when there is no suggestion.
func (u UnknownSetting) String() string {
	if u.Suggestion == "" {
		return "unknown setting " + u.Name
	}
	return "unknown setting " + u.Name + ", did you mean " + u.Suggestion + "?"
}

// Reason is String without the name, for a "NAME: reason" problem: "unknown setting, did you mean SETTING?".
func (u UnknownSetting) Reason() string {
	if u.Suggestion == "" {
		return "unknown setting"
	}
	return "unknown setting, did you mean " + u.Suggestion + "?"
}

// Unknown returns the variables of environ (NAME=value entries, as os.Environ gives them) that start like a
// setting but are not in the table, in the order given, each with the closest known setting when one is close.
func Unknown(environ []string) []UnknownSetting {
	var out []UnknownSetting
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(checkedPrefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		if _, ok := Lookup(name); ok {
			continue
		}
		out = append(out, UnknownSetting{Name: name, Suggestion: closest(name)})
	}
	return out
}

// closest returns the known variable nearest to name by edit distance, if at most a third of name's length
// (and at most 4) edits away; else "".
func closest(name string) string {
	best, bestDist := "", min(len(name)/3, 4)+1
	for _, s := range table {
		if s.Name == "" {
			continue
		}
		if d := editDistance(name, s.Name); d < bestDist {
			best, bestDist = s.Name, d
		}
	}
	return best
}

// editDistance is the number of single-byte insertions, deletions, substitutions and swaps of neighbours that
// turn a into b (the optimal string alignment distance).
func editDistance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
