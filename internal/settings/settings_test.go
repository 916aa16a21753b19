package settings

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestTableIsWellFormed: each row can be documented, found and checked: a unique variable or flag, a kind, a
// group, its readers and a short summary; every variable starts so that the unknown-setting check watches its
// neighbours (PORT and Code Engine's CE_SERVICES aside).
func TestTableIsWellFormed(t *testing.T) {
	names, flags := map[string]bool{}, map[string]bool{}
	varName := regexp.MustCompile(`^[A-Z][A-Z0-9_]*[A-Z0-9]$`)
	for _, s := range All() {
		t.Run(s.Key(), func(t *testing.T) {
			if s.Name == "" && s.Flag == "" {
				t.Fatal("neither a variable nor a flag")
			}
			if s.Name != "" {
				if names[s.Name] {
					t.Error("listed twice")
				}
				names[s.Name] = true
				if !varName.MatchString(s.Name) {
					t.Errorf("%q is not an environment variable name", s.Name)
				}
				if watched := slices.ContainsFunc(checkedPrefixes, func(p string) bool { return strings.HasPrefix(s.Name, p) }); !watched &&
					s.Name != "PORT" && s.Name != "CE_SERVICES" && !strings.HasPrefix(s.Name, "OTEL_") {
					// Others' names: Code Engine's and OpenTelemetry's (whose SDK reads more OTEL_* than listed).
					t.Errorf("%s does not start like the names the unknown-setting check watches, %q", s.Name, checkedPrefixes)
				}
			}
			if s.Flag != "" {
				if flags[s.Flag] {
					t.Error("flag listed twice")
				}
				flags[s.Flag] = true
			}
			if s.Kind == "" || !slices.Contains(groups, s.Group) || s.ReadBy == 0 {
				t.Errorf("kind %q, group %q, read by %q: each must be set", s.Kind, s.Group, s.ReadBy)
			}
			if s.Summary == "" || !strings.HasSuffix(s.Summary, ".") || len(s.Summary) > 130 {
				t.Errorf("summary %q: want one or two short sentences (at most 130 characters), each ended", s.Summary)
			}
			if s.Required && s.Default != "" {
				t.Errorf("required, yet with the default %q", s.Default)
			}
			if s.ReadBy&(Tests|Deploy) != 0 && s.Program() {
				t.Errorf("read by %s: the program, and only the tests or the deploy script, at once", s.ReadBy)
			}
		})
	}
}

// TestAllIsACopy: callers cannot change the table.
func TestAllIsACopy(t *testing.T) {
	a := All()
	a[0].Name = "CHANGED"
	if All()[0].Name == "CHANGED" {
		t.Error("changing All's result changed the table")
	}
}

// TestConfigurationDocIsCurrent: the checked-in docs/configuration.md is what the table makes.
func TestConfigurationDocIsCurrent(t *testing.T) {
	got, err := os.ReadFile("../../" + DocPath)
	if err != nil {
		t.Fatalf("%v: run go generate ./internal/settings", err)
	}
	if !bytes.Equal(got, Markdown()) {
		t.Errorf("%s is out of date with internal/settings/table.go: run go generate ./internal/settings", DocPath)
	}
}

// TestMarkdownDocumentsEverySetting: each program setting has its row, by variable or flag, under its group's
// heading, and the contents link every group.
func TestMarkdownDocumentsEverySetting(t *testing.T) {
	doc := string(Markdown())
	for _, g := range groups {
		if !strings.Contains(doc, "- ["+string(g)+"](#"+anchor(string(g))+")") || !strings.Contains(doc, "\n## "+string(g)+"\n") {
			t.Errorf("group %q lacks its heading or its contents entry", g)
		}
	}
	for _, s := range All() {
		section := doc[strings.Index(doc, "\n## "+string(s.Group)+"\n"):]
		if next := strings.Index(section[1:], "\n## "); next >= 0 {
			section = section[:next+1]
		}
		if !strings.Contains(section, "| `"+s.Key()+"` |") && !strings.Contains(section, "| `--"+s.Flag+"` |") {
			t.Errorf("%s has no row in its group %q", s.Key(), s.Group)
		}
	}
	if got := anchor("Listening, logs and operations"); got != "listening-logs-and-operations" {
		t.Errorf("anchor = %q", got)
	}
}

// TestFlagHelp: a flag's help is its summary without Markdown quotes, saying when it repeats, with its
// variable; a flag not in the table panics.
func TestFlagHelp(t *testing.T) {
	if got, want := FlagHelp("upstream"), "The app's URL, such as http://127.0.0.1:8000. [APPIDGATE_UPSTREAM]"; got != want {
		t.Errorf("FlagHelp(upstream) = %q, want %q", got, want)
	}
	if got := FlagHelp("trusted-proxy"); !strings.HasSuffix(got, " (repeatable) [APPIDGATE_TRUSTED_PROXIES]") {
		t.Errorf("FlagHelp(trusted-proxy) = %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("FlagHelp of a flag not in the table did not panic")
		}
	}()
	FlagHelp("no-such-flag")
}
