package settings

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// DocPath is where Markdown's page is kept, from the repository root.
const DocPath = "docs/configuration.md"

// Markdown returns docs/configuration.md: the table as a reference page, one section per group.
func Markdown() []byte {
	var b bytes.Buffer
	b.WriteString(`<!-- Generated from internal/settings/table.go by "go generate ./internal/settings"; edit the table, not this page. -->

# Configuration reference

appidgate reads its settings from environment variables; ` + "`appidgate proxy`" + ` and ` + "`appidgate idp`" + ` also take
flags, and a proxy flag with a variable takes the variable as its default. The same names serve the Go library
(` + "`appid.ConfigFromEnv`" + `), ` + "`appidgate demo`" + ` and ` + "`appidgate proxy`" + `.

- **Every problem at once.** At start, every missing or invalid setting is named in one message, one
  ` + "`SETTING: reason`" + ` line each, and the command exits with status 2.
- **Typos are caught.** A variable that starts like a setting but is none is a warning naming the closest setting
  (` + "`unknown setting APPIDGATE_SESION_MAX_AGE, did you mean APPIDGATE_SESSION_MAX_AGE?`" + `), and a start-up
  problem with ` + "`APPIDGATE_STRICT_ENV=true`" + `, as in the container image.
- **Values.** Durations are written like ` + "`90s`, `30m` or `1h`" + `; booleans ` + "`true` or `false`" + ` (also ` + "`1` or `0`" + `);
  lists are comma separated, and a list flag may also be repeated.

Each row says what kind of value the setting takes and which parts read it: *library* is
` + "`appid.ConfigFromEnv`" + `, which ` + "`demo`" + ` and ` + "`proxy`" + ` use too. Getting started: [getting-started.md](getting-started.md);
the provider settings in context: [providers.md](providers.md).

## Contents

`)
	for _, g := range groups {
		fmt.Fprintf(&b, "- [%s](#%s)\n", g, anchor(string(g)))
	}
	for _, g := range groups {
		fmt.Fprintf(&b, "\n## %s\n\n", g)
		b.WriteString("| Name | Flag | Default | What it does |\n|---|---|---|---|\n")
		var details []Setting
		for _, s := range table {
			if s.Group != g {
				continue
			}
			name, flag := "—", "—"
			if s.Name != "" {
				name = "`" + s.Name + "`"
			}
			if s.Flag != "" {
				flag = "`--" + s.Flag + "`"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s *(%s; %s)* |\n", name, flag, defaultCell(s), cell(s.Summary), s.Kind, s.ReadBy)
			if s.Details != "" {
				details = append(details, s)
			}
		}
		for _, s := range details {
			fmt.Fprintf(&b, "\n**`%s`**: %s\n", s.Key(), linkDocs(s.Details))
		}
	}
	return b.Bytes()
}

// defaultCell is the Default column of s: "required", the default as code when it is a single word, else as
// words.
func defaultCell(s Setting) string {
	switch {
	case s.Required:
		return "required"
	case s.Default == "":
		return "—"
	case !strings.ContainsAny(s.Default, " ;"):
		return "`" + s.Default + "`"
	}
	return cell(s.Default)
}

// cell escapes s for a Markdown table cell, and links the pages it names.
func cell(s string) string { return linkDocs(strings.ReplaceAll(s, "|", `\|`)) }

// docsPage is a page of docs/ named in a summary, such as docs/proxy.md.
var docsPage = regexp.MustCompile(`\bdocs/([a-z-]+\.md)\b`)

// linkDocs turns each docs/PAGE.md in s into a link relative to the configuration page, its neighbour.
func linkDocs(s string) string { return docsPage.ReplaceAllString(s, "[$1]($1)") }

// anchor is the fragment GitHub gives a heading: lower case, spaces as hyphens, punctuation dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}
