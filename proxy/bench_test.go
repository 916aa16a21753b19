package proxy

import (
	"fmt"
	"strings"
	"testing"
)

// benchRoutes is a table of 20 rules, the size of a busy deployment's.
func benchRoutes(b *testing.B) *Routes {
	var y strings.Builder
	y.WriteString("default: any-role\nroutes:\n")
	for _, p := range []string{"/noauth_route", "/static/", "/assets/", "/favicon.ico", "/healthz", "/login/help"} {
		fmt.Fprintf(&y, "  - {path: %s, public: true}\n", p)
	}
	for i, p := range []string{"/admin", "/admin/audit", "/ops", "/billing", "/billing/invoices", "/settings"} {
		fmt.Fprintf(&y, "  - {path: %s, policy: role:r%d}\n", p, i)
	}
	for _, p := range []string{"/api/", "/api/v1/items", "/api/v1/users", "/api/v2/"} {
		fmt.Fprintf(&y, "  - {path: %s, api: true, policy: scope:view}\n", p)
	}
	y.WriteString("  - {path: /reports, methods: [POST, DELETE], policy: 'any-of [role:admin, scope:reports]'}\n")
	y.WriteString("  - {path: /reports, policy: authenticated}\n")
	y.WriteString("  - {path: /api/v1/items, methods: [DELETE], policy: role:admin}\n")
	y.WriteString("  - {path: /, methods: [OPTIONS], public: true}\n")
	rt, err := ParseRoutes("bench.yaml", []byte(y.String()))
	if err != nil {
		b.Fatal(err)
	}
	return rt
}

// BenchmarkMatch matches a mix of paths (deep API paths, static files, the default) against 20 rules.
func BenchmarkMatch(b *testing.B) {
	rt := benchRoutes(b)
	paths := []string{"/api/v1/items/42", "/static/js/app.js", "/auth_route", "/reports/q3", "/admin/audit/log"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = rt.Match("GET", paths[i%len(paths)])
	}
}

// BenchmarkCleanPathAndMatch is the proxy's per-request cost of choosing a rule for a clean path.
func BenchmarkCleanPathAndMatch(b *testing.B) {
	rt := benchRoutes(b)
	b.ReportAllocs()
	for b.Loop() {
		clean, _, err := CleanPath("/api/v1/items/42")
		if err != nil {
			b.Fatal(err)
		}
		_ = rt.Match("GET", clean)
	}
}

// BenchmarkCleanPathSlow cleans a path with escapes and dot segments, the rare case that allocates.
func BenchmarkCleanPathSlow(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := CleanPath("/static/%2e%2e/api//v1/./items/42"); err != nil {
			b.Fatal(err)
		}
	}
}
