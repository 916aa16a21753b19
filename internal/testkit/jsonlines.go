package testkit

import (
	"encoding/json"
	"strings"
	"testing"
)

// JSONLines decodes text, a JSON log (one object a line), failing the test on a line that is not JSON; blank
// lines are skipped.
func JSONLines(t testing.TB, text string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		out = append(out, rec)
	}
	return out
}
