package testkit

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// OpenRedirectPayloads returns open-redirect attack strings, each aiming at a foreign host: the built-in ones,
// and the 834 of mod_auth_openidc's list (shared/testdata/open-redirect-payloads.txt, beside the repository)
// when it is there, which the test's log then says.
func OpenRedirectPayloads(t testing.TB) []string {
	t.Helper()
	// Built in, in the forms the corpus holds many more of, so that the tests bite in any clone.
	payloads := []string{
		"//example.com", "/\\example.com", "https://example.com/afterauth", "@example.com/afterauth",
		"\\@example.com/afterauth", ".example.com/afterauth", "/%2f%2fexample.com", "javascript:alert(1)//afterauth",
		"#@example.com/afterauth", "%00@example.com/afterauth", "/\\/example.com/", "//example.com/%2e%2e",
		"https:example.com", "/ /example.com", "\t//example.com",
	}
	_, here, _, ok := runtime.Caller(0)
	if !ok {
		return payloads
	}
	corpus := filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "testdata", "open-redirect-payloads.txt")
	data, err := os.ReadFile(corpus)
	if err != nil {
		t.Logf("the shared open-redirect corpus is not here (%v): the %d built-in payloads only", err, len(payloads))
		return payloads
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimRight(line, "\r"); line != "" {
			payloads = append(payloads, line)
		}
	}
	return payloads
}
