// Package settings is the one table of appidgate's settings: every environment variable and flag, with its kind,
// default, the commands that read it and what it does.
//
// The table feeds the code rather than sitting beside it: package appid and the appidgate command read the
// environment through a Reader, which knows only the table's names; the flags take their help from it; the
// unknown-setting check compares the environment with it; and docs/configuration.md is generated from it.
//
//go:generate go run ./gen ../../docs/configuration.md
package settings

import (
	"slices"
	"strings"
)

// Kind is what a setting's value is, as the reference names it.
type Kind string

// The kinds of values.
const (
	KindString   Kind = "string"
	KindSecret   Kind = "secret"   // a string that is never logged
	KindURL      Kind = "url"      // an absolute http(s) URL
	KindPath     Kind = "path"     // a URL path, such as /noauth_route
	KindFile     Kind = "file"     // a file or folder on disk
	KindDuration Kind = "duration" // a Go duration, such as 90s, 30m or 1h
	KindBool     Kind = "bool"     // true or false (also 1 or 0)
	KindList     Kind = "list"     // comma-separated values; a flag of this kind may be repeated
	KindPort     Kind = "port"     // a TCP port number
	KindAddress  Kind = "address"  // host:port
	KindQuery    Kind = "query"    // a URL query string, such as a=1&b=2
	KindJSON     Kind = "json"
)

// Command is a program part that reads settings; a Setting names its readers as a set of Commands.
type Command uint8

// The readers of settings.
const (
	Library Command = 1 << iota // appid.ConfigFromEnv, and so every command that serves an app (demo, proxy)
	Demo                        // appidgate demo
	Proxy                       // appidgate proxy
	IdP                         // appidgate idp
	Tests                       // the repository's tests only, never the program
	Deploy                      // deploy/codeengine.sh only, never the program
)

// commandNames are the names of Commands, in their order.
var commandNames = []string{"library", "demo", "proxy", "idp", "tests", "deploy script"}

// String lists the commands in c, comma-separated.
func (c Command) String() string {
	var names []string
	for i, n := range commandNames {
		if c&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

// Group is the part of the documentation a setting belongs to.
type Group string

// The groups, in the order of the documentation.
const (
	GroupProvider   Group = "Provider: App ID or OpenID Connect"
	GroupSessions   Group = "Sessions and logout"
	GroupPages      Group = "Pages"
	GroupProxy      Group = "Proxy"
	GroupForward    Group = "Forward-auth"
	GroupLocal      Group = "Local provider"
	GroupOperations Group = "Listening, logs and operations"
	GroupTracing    Group = "Tracing"
	GroupOther      Group = "Read by other tools"
)

// groups lists the groups in their documentation order.
var groups = []Group{GroupProvider, GroupSessions, GroupPages, GroupProxy, GroupForward, GroupLocal,
	GroupOperations, GroupTracing, GroupOther}

// Setting is one row of the table.
type Setting struct {
	// Name is the environment variable, such as APPIDGATE_SESSION_MAX_AGE; empty for a flag-only setting.
	Name string
	// Flag is the command-line flag without its dashes, such as upstream; empty when there is none. A setting
	// with both takes the variable as the flag's default.
	Flag string
	Kind Kind
	// Default is the value used when the setting is not given, as a user would write it, or a few words saying
	// what happens; empty when it is required or nothing happens.
	Default string
	// Required says the setting must be given (for the library, demo and proxy: with App ID or OpenID Connect).
	Required bool
	Group    Group
	ReadBy   Command
	// Summary says what the setting does in one or two short sentences (Markdown: `code` in backquotes).
	Summary string
	// Details is a longer explanation shown as a paragraph under the group's table; often empty.
	Details string
}

// Key is how the documentation and problems name s: its variable, else its flag with two dashes.
func (s Setting) Key() string {
	if s.Name != "" {
		return s.Name
	}
	return "--" + s.Flag
}

// Program reports whether the program reads s (rather than only the tests or the deploy script).
func (s Setting) Program() bool { return s.ReadBy&(Library|Demo|Proxy|IdP) != 0 }

// All returns the table, in documentation order. The slice is the caller's own.
func All() []Setting { return slices.Clone(table) }

// Lookup returns the setting of the environment variable name.
func Lookup(name string) (Setting, bool) {
	if name == "" {
		return Setting{}, false
	}
	i := slices.IndexFunc(table, func(s Setting) bool { return s.Name == name })
	if i < 0 {
		return Setting{}, false
	}
	return table[i], true
}

// FlagHelp is the help text of the flag named flag (without dashes): the setting's summary, with its variable
// in brackets when it has one. It panics when the table has no such flag, a mistake that every --help shows.
func FlagHelp(flag string) string {
	i := slices.IndexFunc(table, func(s Setting) bool { return s.Flag == flag })
	if i < 0 {
		panic("settings: no flag --" + flag + " in the table")
	}
	s := table[i]
	// The flag package reads a backquoted word as the name of the flag's value: keep the words, not the quotes.
	help := strings.ReplaceAll(s.Summary, "`", "")
	if s.Kind == KindList {
		help += " (repeatable)"
	}
	if s.Name != "" {
		help += " [" + s.Name + "]"
	}
	return help
}
