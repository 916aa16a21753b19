// Package docs_test checks the documentation as a reader meets it: the README's first commands, and every
// relative link and anchor in the Markdown files, so that a moved section or a renamed page fails a test instead
// of a newcomer.
package docs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// root is the repository root, from this package's folder.
const root = ".."

// markdownFiles lists the Markdown files a reader follows links in.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "CONTRIBUTING.md", "SECURITY.md", "CHANGELOG.md"}
	for _, pattern := range []string{"docs/*.md", "examples/*/README.md"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			rel, _ := filepath.Rel(root, f)
			files = append(files, filepath.ToSlash(rel))
		}
	}
	var present []string
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			present = append(present, f)
		}
	}
	return present
}

var (
	fence   = regexp.MustCompile("(?ms)^```.*?^```")
	code    = regexp.MustCompile("`[^`\n]*`")
	link    = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	heading = regexp.MustCompile(`(?m)^(#{1,6})\s+(.+?)\s*#*\s*$`)
	notSlug = regexp.MustCompile(`[^\p{L}\p{N}_\- ]`)
)

// anchors returns the anchors GitHub gives the headings of a Markdown text: lower case, punctuation dropped,
// spaces as hyphens, and -1, -2, ... for repeats.
func anchors(text string) map[string]bool {
	text = fence.ReplaceAllString(text, "")
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range heading.FindAllStringSubmatch(text, -1) {
		slug := strings.ReplaceAll(notSlug.ReplaceAllString(strings.ToLower(m[2]), ""), " ", "-")
		n := seen[slug]
		seen[slug]++
		if n > 0 {
			slug = fmt.Sprintf("%s-%d", slug, n)
		}
		out[slug] = true
	}
	return out
}

func TestLinksResolve(t *testing.T) {
	files := markdownFiles(t)
	if !slices.Contains(files, "README.md") || len(files) < 10 {
		t.Fatalf("found only %v: run from the docs folder", files)
	}
	texts := map[string]string{}
	read := func(f string) (string, error) {
		if s, ok := texts[f]; ok {
			return s, nil
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		texts[f] = string(b)
		return string(b), err
	}
	checked := 0
	for _, f := range files {
		text, err := read(f)
		if err != nil {
			t.Fatal(err)
		}
		text = code.ReplaceAllString(fence.ReplaceAllString(text, ""), "")
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			path, anchor, _ := strings.Cut(target, "#")
			dest := f
			if path != "" {
				dest = filepath.ToSlash(filepath.Join(filepath.Dir(f), path))
				if _, err := os.Stat(filepath.Join(root, dest)); err != nil {
					t.Errorf("%s: link %s: no file %s", f, target, dest)
					continue
				}
			}
			if anchor == "" {
				continue
			}
			if !strings.HasSuffix(dest, ".md") {
				t.Errorf("%s: link %s: an anchor into %s, which is not Markdown", f, target, dest)
				continue
			}
			destText, err := read(dest)
			if err != nil {
				t.Errorf("%s: link %s: %v", f, target, err)
				continue
			}
			if !anchors(destText)[anchor] {
				t.Errorf("%s: link %s: %s has no heading with anchor #%s", f, target, dest, anchor)
			}
		}
	}
	t.Logf("%d relative links in %d files", checked, len(files))
}

func TestAnchors(t *testing.T) {
	got := anchors("# appidgate\n## Use the library in your own app\n## Caddy (tested)\n```\n# not a heading\n```\n" +
		"## Try it\n## Try it\n### `appidgate proxy`: flags\n")
	for _, want := range []string{"appidgate", "use-the-library-in-your-own-app", "caddy-tested", "try-it", "try-it-1",
		"appidgate-proxy-flags"} {
		if !got[want] {
			t.Errorf("no anchor %q in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a line in a code block counted as a heading")
	}
}

// TestREADMEFirstScreen keeps the promise of the README's first lines: the two commands a newcomer runs on a
// fresh machine, and a page short enough to read.
func TestREADMEFirstScreen(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) > 200 {
		t.Errorf("README.md has %d lines; keep it under 200 and move details to docs/", len(lines))
	}
	first := strings.Join(lines[:min(len(lines), 6)], "\n")
	for _, cmd := range []string{"go run ./cmd/appidgate demo", "go test -race ./..."} {
		if !strings.Contains(first, cmd) {
			t.Errorf("README.md's first lines lack %q:\n%s", cmd, first)
		}
	}
}
