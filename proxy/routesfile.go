package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/appidgate/appidgate/appid"
	"go.yaml.in/yaml/v3"
)

// knownMethods lists the methods a rule may list: RFC 9110's, PATCH, and WebDAV's. A misspelt method would make
// a rule silently never apply, so others are refused.
const knownMethods = "GET HEAD POST PUT PATCH DELETE OPTIONS TRACE CONNECT PROPFIND PROPPATCH MKCOL COPY MOVE LOCK UNLOCK"

func isKnownMethod(m string) bool {
	return m != "" && !strings.Contains(m, " ") && slices.Contains(strings.Fields(knownMethods), m)
}

// addFile adds the default and rules of a routes file. It reports false when the file is not YAML at all, and
// the problem is then the only one.
func (b *routesBuilder) addFile(name string, data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return true // an empty file: no rules
		}
		b.problems = append(b.problems, yamlProblem(name, data, err))
		return false
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		b.problem(fmt.Sprintf("%s:%d", name, next.Line), "a routes file holds one YAML document; remove this \"---\"")
	} else if !errors.Is(err, io.EOF) {
		b.problems = append(b.problems, yamlProblem(name, data, err))
		return false
	}
	f := routesFile{b: b, name: name}
	root := deref(doc.Content[0])
	switch {
	case isNull(root):
	case root.Kind != yaml.MappingNode:
		b.problem(f.at(root), "expected a mapping with the keys default and routes")
	default:
		f.top(root)
	}
	return true
}

// yamlProblem turns the decoder's "yaml: line N: msg" into "NAME:N: msg". The decoder's N is often the line
// before the construct that holds the mistake, so N is the first line at which the file's beginning fails to
// parse with the same message, when there is one.
func yamlProblem(name string, data []byte, err error) appid.Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	text := msg
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, t, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, text = n, t
			}
		}
	}
	if n := firstFailingLine(data, text); n > 0 {
		line = n
	}
	if line == 0 {
		return appid.Problem{Setting: name, Reason: text}
	}
	return appid.Problem{Setting: fmt.Sprintf("%s:%d", name, line), Reason: text}
}

// firstFailingLine finds, by bisection, the fewest lines of data that fail to parse with an error ending in
// text; 0 when there are none.
func firstFailingLine(data []byte, text string) int {
	ends := []int{} // ends[i] is the length of the first i+1 lines
	for i, c := range data {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	fails := func(i int) bool {
		var n yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader(data[:ends[i]]))
		for {
			err := dec.Decode(&n)
			if err == nil {
				continue
			}
			return !errors.Is(err, io.EOF) && strings.HasSuffix(err.Error(), text)
		}
	}
	lo, hi := 0, len(ends) // the answer is in [lo, hi]; hi means none
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == len(ends) {
		return 0
	}
	return lo + 1
}

// routesFile walks one file's YAML nodes.
type routesFile struct {
	b    *routesBuilder
	name string
}

func (f *routesFile) at(n *yaml.Node) string {
	return fmt.Sprintf("%s:%d:%d", f.name, n.Line, n.Column)
}

// atOffset names the position off bytes into n's value, exactly when n is a plain one-line scalar.
func (f *routesFile) atOffset(n *yaml.Node, off int) string {
	if n.Style == 0 && !strings.Contains(n.Value, "\n") {
		return fmt.Sprintf("%s:%d:%d", f.name, n.Line, n.Column+off)
	}
	return f.at(n)
}

// fields checks a mapping's keys against known, reporting unknown and repeated ones, and calls fn for the rest.
func (f *routesFile) fields(m *yaml.Node, what string, known []string, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], deref(m.Content[i+1])
		switch {
		case k.Kind != yaml.ScalarNode || !slices.Contains(known, k.Value):
			f.b.problem(f.at(k), "unknown key %q in %s (known: %s)", k.Value, what, strings.Join(known, ", "))
		case seen[k.Value] != nil:
			f.b.problem(f.at(k), "key %q repeated (first at line %d)", k.Value, seen[k.Value].Line)
		default:
			seen[k.Value] = k
			fn(k.Value, k, v)
		}
	}
}

func (f *routesFile) top(root *yaml.Node) {
	f.fields(root, "the routes file", []string{"default", "routes"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "default":
			if pol, ok := f.policy(k, v); ok {
				f.b.def, f.b.defWhere, f.b.defText = pol, f.at(v), strings.TrimSpace(v.Value)
			}
		case "routes":
			switch {
			case isNull(v):
			case v.Kind != yaml.SequenceNode:
				f.b.problem(f.at(v), "routes: expected a list of rules, each starting with \"- path: /...\"")
			default:
				for _, item := range v.Content {
					f.route(deref(item))
				}
			}
		}
	})
}

func (f *routesFile) route(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		f.b.problem(f.at(n), "expected a rule with the keys path, methods, public, api, bearer and policy")
		return
	}
	s := routeSpec{where: f.at(n)}
	var pathNode, publicNode, policyNode, bearerNode *yaml.Node
	ok := true
	f.fields(n, "a rule", []string{"path", "methods", "public", "api", "bearer", "policy"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "path":
			pathNode = k
			if !isString(v) {
				f.b.problem(f.at(v), "path: expected a path such as /admin")
				ok = false
			} else if msg := patternProblem(v.Value); msg != "" {
				f.b.problem(f.at(v), "%s", msg)
				ok = false
			} else {
				s.pattern, s.base, s.where = v.Value, patternBase(v.Value), f.at(v)
			}
		case "methods":
			s.methods, ok = f.methods(v)
		case "public":
			var okb bool
			if s.public, okb = f.bool(k, v); !okb {
				ok = false
			} else if s.public {
				publicNode = k
			}
		case "api":
			var okb bool
			if s.api, okb = f.bool(k, v); !okb {
				ok = false
			}
		case "bearer":
			var okb bool
			if s.bearer, okb = f.bool(k, v); !okb {
				ok = false
			} else if s.bearer {
				bearerNode = k
			}
		case "policy":
			policyNode = k
			s.text = strings.TrimSpace(v.Value)
			if s.policy, s.hasPolicy = f.policy(k, v); !s.hasPolicy {
				ok = false
			}
		}
	})
	switch {
	case pathNode == nil:
		f.b.problem(f.at(n), "rule without a path")
		ok = false
	case publicNode != nil && policyNode != nil:
		f.b.problem(f.at(policyNode), "a public rule has no policy: remove public: true or the policy")
		ok = false
	case publicNode != nil && bearerNode != nil:
		f.b.problem(f.at(bearerNode), "a public rule takes no tokens: remove public: true or bearer: true")
		ok = false
	case ok && !s.public && !s.api && !s.bearer && !s.hasPolicy:
		f.b.problem(f.at(n), "rule for %s says nothing: give it public: true, a policy, or api: true", s.pattern)
		ok = false
	}
	if ok {
		f.b.specs = append(f.b.specs, s)
	}
}

// methods reads a rule's list of methods, upper-cased.
func (f *routesFile) methods(v *yaml.Node) ([]string, bool) {
	if v.Kind != yaml.SequenceNode {
		f.b.problem(f.at(v), "methods: expected a list such as [GET, POST]")
		return nil, false
	}
	if len(v.Content) == 0 {
		f.b.problem(f.at(v), "methods: empty list; leave methods out to match every method")
		return nil, false
	}
	ok := true
	var methods []string
	for _, item := range v.Content {
		item = deref(item)
		m := strings.ToUpper(item.Value)
		switch {
		case !isString(item):
			f.b.problem(f.at(item), "methods: expected a method name such as GET")
			ok = false
		case !isKnownMethod(m):
			f.b.problem(f.at(item), "unknown method %q (known: %s)", item.Value, knownMethods)
			ok = false
		case slices.Contains(methods, m):
			f.b.problem(f.at(item), "method %s listed twice", m)
			ok = false
		default:
			methods = append(methods, m)
		}
	}
	return methods, ok
}

func (f *routesFile) bool(k, v *yaml.Node) (bool, bool) {
	var b bool
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || v.Decode(&b) != nil {
		f.b.problem(f.at(v), "%s: expected true or false, got %q", k.Value, v.Value)
		return false, false
	}
	return b, true
}

func (f *routesFile) policy(k, v *yaml.Node) (appid.Policy, bool) {
	if !isString(v) || strings.TrimSpace(v.Value) == "" {
		f.b.problem(f.at(v), "%s: expected a policy (%s)", k.Value, appid.PolicySyntax)
		return appid.Policy{}, false
	}
	pol, off, msg := parsePolicyExpr(v.Value)
	if msg != "" {
		f.b.problem(f.atOffset(v, off), "%s: %s", k.Value, msg)
		return appid.Policy{}, false
	}
	return pol, true
}

// deref follows a YAML alias to its anchor.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func isString(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" }

// parsePolicyExpr parses a policy with appid.ParsePolicy; on failure it returns the message and the byte offset
// in s that it is about, for problems that point into a file.
func parsePolicyExpr(s string) (appid.Policy, int, string) {
	pol, err := appid.ParsePolicy(s)
	var pe *appid.PolicyError
	if errors.As(err, &pe) {
		return pol, pe.Offset, pe.Msg
	}
	return pol, 0, ""
}
