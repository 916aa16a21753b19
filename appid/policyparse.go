package appid

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PolicySyntax is the grammar of a policy as ParsePolicy reads it, quoted in its errors.
const PolicySyntax = "authenticated, any-role, role:NAME, scope:NAME, claim:PATH=VALUE, any-of [P, ...], all-of [P, ...]"

// maxPolicyDepth bounds the nesting of any-of and all-of.
const maxPolicyDepth = 16

// ParsePolicy parses a policy written in the policy language of appidgate proxy's routes:
//
//	authenticated              every signed-in user (Authenticated)
//	any-role                   users holding at least one role (AnyRole, the reference app's check)
//	role:NAME                  users holding role NAME (Role)
//	scope:NAME                 users granted scope NAME (Scope)
//	claim:PATH=VALUE           users whose token claim PATH equals VALUE or, as an array, holds it (Claim)
//	any-of [P, P, ...]         users whom at least one of the policies admits (AnyOf)
//	all-of [P, P, ...]         users whom every one of the policies admits (AllOf)
//
// any-of and all-of nest. A NAME runs to the next "," or "]" with the spaces around it trimmed, so it may hold
// spaces (role:Team Lead); one holding ",", "[", "]" or a double quote is written as a Go string:
// role:"R&D, west". A claim's PATH runs from "claim:" to the first "=" and holds only ASCII letters, digits,
// "_", "-", ".", ":" and "/"; its VALUE is written as a NAME is. The error is a *PolicyError.
func ParsePolicy(s string) (Policy, error) {
	pol, off, msg := parsePolicyExpr(s)
	if msg != "" {
		return Policy{}, &PolicyError{Text: s, Offset: off, Msg: msg}
	}
	return pol, nil
}

// PolicyError is ParsePolicy's error: what is wrong with the text, and where.
type PolicyError struct {
	Text   string // the policy as given
	Offset int    // the byte offset in Text that Msg is about
	Msg    string // what is wrong, e.g. unknown policy "admin" (known: ...)
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("appid: policy %q: %s (at byte %d)", e.Text, e.Msg, e.Offset)
}

// parsePolicyExpr parses a policy (see ParsePolicy). On failure it returns a message and the
// byte offset in s that the message is about.
func parsePolicyExpr(s string) (Policy, int, string) {
	p := policyParser{s: s}
	pol, ok := p.policy(0)
	if !ok {
		return Policy{}, p.errAt, p.err
	}
	p.skipSpace()
	if p.i < len(s) {
		msg := fmt.Sprintf("unexpected %q after the policy", s[p.i:])
		if s[p.i] == ',' {
			msg += "; combine policies with any-of [...] or all-of [...]"
		}
		return Policy{}, p.i, msg
	}
	return pol, 0, ""
}

type policyParser struct {
	s     string
	i     int
	err   string
	errAt int
}

func (p *policyParser) fail(at int, format string, args ...any) bool {
	p.errAt, p.err = at, fmt.Sprintf(format, args...)
	return false
}

func (p *policyParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func (p *policyParser) policy(depth int) (Policy, bool) {
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) && isWordByte(p.s[p.i]) {
		p.i++
	}
	word := p.s[start:p.i]
	switch word {
	case "authenticated":
		return Authenticated(), true
	case "any-role":
		return AnyRole(), true
	case "role", "scope":
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return Policy{}, p.fail(p.i, "%s needs a name: write %s:NAME", word, word)
		}
		p.i++
		name, ok := p.name(word, "name")
		if !ok {
			return Policy{}, false
		}
		if word == "role" {
			return Role(name), true
		}
		return Scope(name), true
	case "claim":
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return Policy{}, p.fail(p.i, "claim needs a path and a value: write claim:PATH=VALUE")
		}
		p.i++
		path, ok := p.claimPath()
		if !ok {
			return Policy{}, false
		}
		value, ok := p.name(word, "value")
		if !ok {
			return Policy{}, false
		}
		return Claim(path, value), true
	case "any-of", "all-of":
		if depth >= maxPolicyDepth {
			return Policy{}, p.fail(start, "policies nested more than %d deep", maxPolicyDepth)
		}
		list, ok := p.list(word, depth)
		if !ok {
			return Policy{}, false
		}
		if word == "any-of" {
			return AnyOf(list...), true
		}
		return AllOf(list...), true
	case "":
		if p.i >= len(p.s) {
			return Policy{}, p.fail(p.i, "missing policy (one of %s)", PolicySyntax)
		}
		return Policy{}, p.fail(p.i, "unexpected %q, expected a policy (one of %s)", p.s[p.i:p.i+1], PolicySyntax)
	}
	msg := fmt.Sprintf("unknown policy %q (known: %s)", word, PolicySyntax)
	if alt := strings.ReplaceAll(strings.ToLower(word), "_", "-"); alt != word && isPolicyWord(alt) {
		msg = fmt.Sprintf("unknown policy %q: did you mean %s?", word, alt)
	}
	return Policy{}, p.fail(start, "%s", msg)
}

func isPolicyWord(w string) bool {
	switch w {
	case "authenticated", "any-role", "role", "scope", "claim", "any-of", "all-of":
		return true
	}
	return false
}

// list parses "[P, P, ...]" after any-of or all-of.
func (p *policyParser) list(word string, depth int) ([]Policy, bool) {
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		return nil, p.fail(p.i, "%s needs a list: write %s [P, ...]", word, word)
	}
	open := p.i
	p.i++
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		return nil, p.fail(open, "%s [] is empty: name at least one policy", word)
	}
	var list []Policy
	for {
		pol, ok := p.policy(depth + 1)
		if !ok {
			return nil, false
		}
		list = append(list, pol)
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, p.fail(open, "%s: missing ] for this [", word)
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return list, true
		default:
			return nil, p.fail(p.i, "unexpected %q in %s, expected \",\" or \"]\"", p.s[p.i:p.i+1], word)
		}
	}
}

// name parses the NAME after role: or scope: (noun "name"), or the VALUE after claim:PATH= (noun "value").
func (p *policyParser) name(word, noun string) (string, bool) {
	form, quoted := word+":NAME", word+`:"a[b]"`
	if word == "claim" {
		form, quoted = "claim:PATH=VALUE", `claim:PATH="a[b]"`
	}
	p.skipSpace()
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '"' {
		q, err := strconv.QuotedPrefix(p.s[p.i:])
		if err != nil {
			return "", p.fail(start, "%s: unterminated or malformed quoted %s", word, noun)
		}
		p.i += len(q)
		name, _ := strconv.Unquote(q)
		if strings.TrimSpace(name) == "" {
			return "", p.fail(start, "empty %s %s", word, noun)
		}
		return name, true
	}
	for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != ']' {
		switch c := p.s[p.i]; {
		case c == '[' || c == '"':
			if !p.checkCommas(start) {
				return "", false
			}
			return "", p.fail(p.i, "%s %s holds %q: quote the %s, e.g. %s", word, noun, c, noun, quoted)
		case c < 0x20 || c == 0x7f:
			return "", p.fail(p.i, "%s %s holds a control character", word, noun)
		}
		p.i++
	}
	if !p.checkCommas(start) {
		return "", false
	}
	name := strings.TrimSpace(p.s[start:p.i])
	if name == "" {
		return "", p.fail(start, "empty %s %s: write %s", word, noun, form)
	}
	return name, true
}

// isClaimPathByte reports whether c may appear in a claim path: ASCII letters, digits, "_", "-", "." (which
// descends into nested objects), ":" and "/" (for names such as cognito:groups and https://example.com/roles).
func isClaimPathByte(c byte) bool {
	return isWordByte(c) || c == '.' || c == ':' || c == '/'
}

// claimPath parses the PATH of claim:PATH=VALUE and the "=" after it. The path runs to the first "=", so a
// value may hold "=" and ":" but a path never holds "=".
func (p *policyParser) claimPath() (string, bool) {
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) && isClaimPathByte(p.s[p.i]) {
		p.i++
	}
	path := p.s[start:p.i]
	p.skipSpace()
	switch {
	case path == "" && (p.i >= len(p.s) || p.s[p.i] == '=' || p.s[p.i] == ',' || p.s[p.i] == ']'):
		return "", p.fail(start, "empty claim path: write claim:PATH=VALUE")
	case p.i < len(p.s) && p.s[p.i] != '=' && p.s[p.i] != ',' && p.s[p.i] != ']':
		r, _ := utf8.DecodeRuneInString(p.s[p.i:])
		return "", p.fail(p.i, "claim path holds %q: a path is ASCII letters, digits, \"_\", \"-\", \".\", \":\" and \"/\"", r)
	case p.i >= len(p.s) || p.s[p.i] != '=':
		return "", p.fail(p.i, "claim %s needs a value: write claim:%s=VALUE", path, path)
	case path[0] == '.' || path[len(path)-1] == '.' || strings.Contains(path, ".."):
		return "", p.fail(start, "claim path %q has an empty segment: dots separate nested claim names", path)
	}
	p.i++ // the "="
	return path, true
}

// checkCommas catches a forgotten comma, which would otherwise make a name such as "admin role:user" out of
// the bare name running from start to p.i.
func (p *policyParser) checkCommas(start int) bool {
	text := p.s[start:p.i]
	for _, w := range []string{" role:", " scope:", " claim:", " any-of", " all-of", " authenticated", " any-role"} {
		if i := strings.Index(text, w); i >= 0 {
			return p.fail(start+i+1, "missing \",\" before %q", w[1:])
		}
	}
	return true
}
