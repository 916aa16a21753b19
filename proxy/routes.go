package proxy

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/problem"
)

// Rule is what the proxy does for a request.
type Rule struct {
	// Pattern is the path of the rule that applies, as written, or "default" for paths no rule names. It is
	// bounded by the routes configuration, so it suits metrics labels and logs; the request path never does.
	Pattern string
	// Public means no login is needed; Policy is then unset.
	Public bool
	// Policy decides who may pass when the route is not public.
	Policy appid.Policy
	// API means a request without a session gets 401 with a JSON body, never a redirect to the login page, even
	// when it looks like a browser navigation. Requests to other routes that look like API calls (see
	// appid.Auth.Check) get 401 as well.
	API bool
	// Bearer means a request with an "Authorization: Bearer" access token is decided by that token, as
	// appid.Auth.RequireBearer decides it, instead of a session (oauth2-proxy's --skip-jwt-bearer-tokens); other
	// requests still need a session. Off by default: a token is then ignored and the session decides.
	Bearer bool
	// PolicyText is Policy as written in the routes file or flag (the default's for a rule that has none of its
	// own, any-role for the built-in default); empty when Public.
	PolicyText string
	// Source is where the rule was written: "FILE:LINE:COL" of its path in a routes file, the flag that made it
	// ("--public /x"), or for the default rule where the default was set; "" for the built-in default.
	Source string
}

// Routes decides, per request, which Rule applies. Build it with ParseRoutes or LoadRoutes; it is immutable and
// safe for concurrent use. A nil *Routes applies any-role to every path.
//
// A rule's path is a prefix matched on whole segments: /admin matches /admin, /admin/ and /admin/x but not
// /administrator, and a trailing slash does not change that (/static/ matches /static too, as net/http.ServeMux
// redirects it). "/" matches every path. The rule with the longest path wins; among the rules for one path, the
// one listing the request's method beats the one listing none, and a rule for GET covers HEAD unless a rule
// lists HEAD. A path that no rule for the method covers gets the default rule (any-role unless configured).
// Paths are compared byte for byte: matching is case-sensitive, so /PUBLIC is not /public.
type Routes struct {
	entries []routeEntry // one per path, longest first
	def     Rule
}

// routeEntry holds the rules for one path.
type routeEntry struct {
	base     string // the path without a trailing slash; "" for "/"
	all      Rule   // the rule listing no methods, when hasAll
	hasAll   bool
	byMethod []methodRule
}

type methodRule struct {
	method string
	rule   Rule
}

// defaultPattern is Rule.Pattern for paths no rule names.
const defaultPattern = "default"

// Match returns the rule for a request with method (compared without regard to case, as some frameworks
// upper-case it) and cleanPath, which must come from CleanPath. It does not allocate.
func (rt *Routes) Match(method, cleanPath string) Rule {
	if rt == nil {
		return Rule{Pattern: defaultPattern, Policy: appid.AnyRole()}
	}
	for i := range rt.entries {
		e := &rt.entries[i]
		n := len(e.base)
		// The byte after the prefix, then its last byte, rule most paths out before comparing strings.
		if len(cleanPath) < n || len(cleanPath) > n && cleanPath[n] != '/' ||
			n > 0 && cleanPath[n-1] != e.base[n-1] || cleanPath[:n] != e.base {
			continue
		}
		if r, ok := e.forMethod(method); ok {
			return r
		}
		if e.hasAll {
			return e.all
		}
	}
	return rt.def
}

// PublicFallThroughs names the paths whose rules all list methods while a method they do not list falls to a
// public rule of a shorter path: with / public and /admin for POST only, a GET of /admin is public. That may be
// meant, but is easy to write by mistake; appidgate proxy logs each at start.
func (rt *Routes) PublicFallThroughs() []string {
	if rt == nil {
		return nil
	}
	var out []string
	for _, e := range rt.entries {
		if e.hasAll || len(e.byMethod) == 0 {
			continue
		}
		path := cmp.Or(e.base, "/")
		listed := make([]string, len(e.byMethod))
		for j, m := range e.byMethod {
			listed[j] = m.method
		}
		var public []string
		fallback := ""
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"} {
			if r := rt.Match(m, path); r.Public && r.Pattern != path && !slices.Contains(listed, m) {
				if m == "OTHER" { // stands for every method no rule names
					m = "any other method"
				}
				public, fallback = append(public, m), r.Pattern
			}
		}
		if len(public) > 0 {
			out = append(out, fmt.Sprintf("%s has rules for %s only: %s fall to %s, which is public", path,
				strings.Join(listed, ", "), strings.Join(public, ", "), fallback))
		}
	}
	return out
}

func (e *routeEntry) forMethod(method string) (Rule, bool) {
	if len(e.byMethod) == 0 {
		return Rule{}, false
	}
	for i := range e.byMethod {
		if strings.EqualFold(e.byMethod[i].method, method) {
			return e.byMethod[i].rule, true
		}
	}
	if strings.EqualFold(method, "HEAD") {
		return e.forMethod("GET")
	}
	return Rule{}, false
}

// RouteFlags are the route settings given on the command line, for the simple cases; LoadRoutes adds them to a
// routes file's. Every path and the default are defined once, in the file or by a flag: naming one in both is
// an error.
type RouteFlags struct {
	// Default (--default-policy) is the policy for paths no rule names; empty means the file's, or any-role.
	Default string
	// Public (--public, repeatable) lists paths open to all, several to a value when separated by commas.
	Public []string
	// API (--api, repeatable) lists paths that answer 401 JSON instead of redirecting to the login page, comma
	// separated like Public; their policy is the one --policy gives them, or the default.
	API []string
	// Policy (--policy, repeatable) gives a path its policy, one PATH=POLICY per value: /admin=role:admin.
	Policy []string
}

// maxRoutesFileBytes bounds a routes file.
const maxRoutesFileBytes = 1 << 20

// LoadRoutes reads the routes file (none when file is "") and adds the rules of flags. The error lists every
// problem at once, each with the file, line and column, or the flag, it comes from. A routes file is YAML:
//
//	# the policy for paths no rule names; any-role when left out
//	default: any-role
//	routes:
//	  - path: /noauth_route        # a path prefix, matched on whole segments (see Routes)
//	    public: true               # no login needed
//	  - path: /admin
//	    policy: role:admin
//	  - path: /api/
//	    api: true                  # 401 JSON instead of a login redirect
//	    policy: scope:view         # without a policy, an api rule has the default's
//	    bearer: true               # an "Authorization: Bearer" access token is accepted instead of a session
//	  - path: /reports
//	    methods: [POST, DELETE]    # only these; other methods fall to shorter paths, then the default
//	    policy: any-of [role:admin, scope:reports]
//
// Unknown keys are errors, and so are a rule both public and with a policy (or bearer: true), a rule with nothing but a path, two
// rules for the same path and method, a path that is not clean or not absolute, and methods other than GET,
// HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT and WebDAV's (PROPFIND, PROPPATCH, MKCOL, COPY, MOVE,
// LOCK, UNLOCK).
//
// A policy, in the file and in flags, is one of (appid.ParsePolicy reads it):
//
//	authenticated              every signed-in user
//	any-role                   users holding at least one role (the reference app's check)
//	role:NAME                  users holding role NAME
//	scope:NAME                 users granted scope NAME (see appid.User.HasScope)
//	claim:PATH=VALUE           users whose token claim PATH equals VALUE or, as an array, holds it (appid.Claim)
//	any-of [P, P, ...]         users whom at least one of the policies admits
//	all-of [P, P, ...]         users whom every one of the policies admits
//
// any-of and all-of nest: any-of [role:admin, all-of [role:user, scope:reports]]. A NAME runs to the next ","
// or "]" with the spaces around it trimmed, so it may hold spaces (role:Team Lead); one holding ",", "[", "]"
// or a double quote is written as a Go string: role:"R&D, west". A claim's PATH runs from "claim:" to the first
// "=" and holds only ASCII letters, digits, "_", "-", ".", ":" and "/", with no empty segment between dots
// (claim:groups=admins, claim:realm_access.roles=admin, claim:cognito:groups=ops,
// claim:https://example.com/roles=editor); its VALUE is written as a NAME is, and may hold "=" and ":".
func LoadRoutes(file string, flags RouteFlags) (*Routes, error) {
	var data []byte
	if file != "" {
		var err error
		if data, err = readRoutesFile(file); err != nil {
			return nil, err
		}
	}
	return buildRoutes(file, data, flags)
}

// buildRoutes makes the Routes of a routes file's content (none when file is "") and flags.
func buildRoutes(file string, data []byte, flags RouteFlags) (*Routes, error) {
	var b routesBuilder
	if file != "" && !b.addFile(file, data) {
		return nil, b.err()
	}
	b.addFlags(flags)
	return b.build()
}

// ParseRoutes parses a routes file's content; name names it in errors. See LoadRoutes.
func ParseRoutes(name string, data []byte) (*Routes, error) {
	var b routesBuilder
	if !b.addFile(name, data) {
		return nil, b.err()
	}
	return b.build()
}

func readRoutesFile(file string) ([]byte, error) {
	// Only a regular file, symlinks followed: a FIFO would block the read (and with it every later reload) until
	// a writer came, and a device could be read forever. Stat first, so that nothing else is even opened (a
	// missing file is left to the open's error); open without blocking and check again, for a file swapped in
	// between.
	if fi, err := os.Stat(file); err == nil && !fi.Mode().IsRegular() {
		return nil, notRegular(file, fi)
	}
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("proxy: routes: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("proxy: routes %s: %w", file, err)
	} else if !fi.Mode().IsRegular() {
		return nil, notRegular(file, fi)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRoutesFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("proxy: routes %s: %w", file, err)
	}
	if len(data) > maxRoutesFileBytes {
		return nil, fmt.Errorf("proxy: routes %s: larger than %d bytes", file, maxRoutesFileBytes)
	}
	return data, nil
}

// notRegular is the error for a routes file that is not a regular file once symlinks are followed.
func notRegular(file string, fi os.FileInfo) error {
	return fmt.Errorf("proxy: routes %s: not a regular file (%s); give a file, or a symlink to one", file,
		fileKind(fi.Mode()))
}

// fileKind names the type of a file that is not a regular one.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m.IsDir():
		return "a directory"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// routeSpec is one rule as configured, before the default is known.
type routeSpec struct {
	pattern   string
	base      string
	methods   []string // nil: every method
	public    bool
	api       bool
	bearer    bool
	policy    appid.Policy
	text      string // the policy as written
	hasPolicy bool
	where     string // "FILE:LINE:COL" or the flag, for errors
}

// routesBuilder collects rules and problems from a file and flags.
type routesBuilder struct {
	specs     []routeSpec
	def       appid.Policy
	defWhere  string // where the default was set; "" when it was not
	defText   string // the default as written
	problems  []appid.Problem
	flagSpecs map[string]int // base -> index in specs, for rules from flags
}

func (b *routesBuilder) problem(where, format string, args ...any) {
	b.problems = append(b.problems, appid.Problem{Setting: where, Reason: fmt.Sprintf(format, args...)})
}

func (b *routesBuilder) err() error {
	if len(b.problems) == 0 {
		return nil
	}
	return &RoutesError{Problems: slices.Clone(b.problems)}
}

// RoutesError is the error of routes with problems, from LoadRoutes, ParseRoutes and LiveRoutes: every problem
// found, each naming where it is as its Setting: "FILE:LINE:COL", "FILE:LINE" or the flag ("--policy /x=y").
type RoutesError struct {
	Problems []appid.Problem
}

func (e *RoutesError) Error() string {
	if len(e.Problems) == 1 {
		return "proxy: routes " + e.Problems[0].String()
	}
	return fmt.Sprintf("proxy: routes: %d problems:\n  %s", len(e.Problems), problem.Join(e.Problems, "\n  "))
}

// addFlags adds the rules and default of f.
func (b *routesBuilder) addFlags(f RouteFlags) {
	if f.Default != "" {
		where := "--default-policy " + f.Default
		pol, _, msg := parsePolicyExpr(f.Default)
		switch {
		case msg != "":
			b.problem(where, "%s", msg)
		case b.defWhere != "":
			b.problem(where, "the default is already set at %s", b.defWhere)
		default:
			b.def, b.defWhere, b.defText = pol, where, strings.TrimSpace(f.Default)
		}
	}
	spec := func(where, path string) *routeSpec {
		if msg := patternProblem(path); msg != "" {
			b.problem(where, "%s", msg)
			return nil
		}
		base := patternBase(path)
		if i, ok := b.flagSpecs[base]; ok {
			return &b.specs[i]
		}
		if b.flagSpecs == nil {
			b.flagSpecs = map[string]int{}
		}
		b.flagSpecs[base] = len(b.specs)
		b.specs = append(b.specs, routeSpec{pattern: path, base: base, where: where})
		return &b.specs[len(b.specs)-1]
	}
	for _, path := range splitFlagPaths(f.Public) {
		where := "--public " + path
		if s := spec(where, path); s != nil {
			if s.hasPolicy {
				b.problem(where, "%s also has a policy (%s): a public path has none", path, s.where)
			}
			s.public = true
		}
	}
	for _, path := range splitFlagPaths(f.API) {
		if s := spec("--api "+path, path); s != nil {
			s.api = true
		}
	}
	for _, v := range f.Policy {
		where := "--policy " + v
		path, expr, ok := strings.Cut(v, "=")
		path = strings.TrimSpace(path)
		if !ok {
			b.problem(where, "expected PATH=POLICY, e.g. /admin=role:admin")
			continue
		}
		pol, _, msg := parsePolicyExpr(expr)
		if msg != "" {
			b.problem(where, "%s", msg)
			continue
		}
		s := spec(where, path)
		switch {
		case s == nil:
		case s.public:
			b.problem(where, "%s is also public (--public): a public path has no policy", path)
		case s.hasPolicy:
			b.problem(where, "%s already has a policy (%s)", path, s.where)
		default:
			s.policy, s.text, s.hasPolicy = pol, strings.TrimSpace(expr), true
		}
	}
}

func splitFlagPaths(values []string) []string {
	var paths []string
	for _, v := range values {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				paths = append(paths, p)
			}
		}
	}
	return paths
}

// build checks for rules that name the same path and method, and makes the Routes.
func (b *routesBuilder) build() (*Routes, error) {
	type first struct{ pattern, where string }
	seen := map[string]first{} // base + " " + method ("" for none)
	for _, s := range b.specs {
		methods := s.methods
		if methods == nil {
			methods = []string{""}
		}
		for _, m := range methods {
			key := s.base + " " + m
			f, dup := seen[key]
			if !dup {
				seen[key] = first{s.pattern, s.where}
				continue
			}
			what := s.pattern
			if m != "" {
				what = m + " " + s.pattern
			}
			note := ""
			if f.pattern != s.pattern {
				note = fmt.Sprintf(" as %s (a trailing slash does not make another path)", f.pattern)
			}
			b.problem(s.where, "a rule for %s is already at %s%s", what, f.where, note)
		}
	}
	if len(b.problems) > 0 {
		return nil, b.err()
	}
	def, defText := appid.AnyRole(), "any-role"
	if b.defWhere != "" {
		def, defText = b.def, b.defText
	}
	rt := &Routes{def: Rule{Pattern: defaultPattern, Policy: def, PolicyText: defText, Source: b.defWhere}}
	index := map[string]int{}
	for _, s := range b.specs {
		r := Rule{Pattern: s.pattern, Public: s.public, API: s.api, Bearer: s.bearer, Source: s.where}
		if !s.public {
			r.Policy, r.PolicyText = def, defText
			if s.hasPolicy {
				r.Policy, r.PolicyText = s.policy, s.text
			}
		}
		i, ok := index[s.base]
		if !ok {
			i = len(rt.entries)
			index[s.base] = i
			rt.entries = append(rt.entries, routeEntry{base: s.base})
		}
		e := &rt.entries[i]
		if s.methods == nil {
			e.all, e.hasAll = r, true
		}
		for _, m := range s.methods {
			e.byMethod = append(e.byMethod, methodRule{method: m, rule: r})
		}
	}
	slices.SortStableFunc(rt.entries, func(x, y routeEntry) int { return cmp.Compare(len(y.base), len(x.base)) })
	return rt, nil
}

// patternBase is the part of a clean path pattern that is compared with request paths.
func patternBase(p string) string { return strings.TrimSuffix(p, "/") }

// patternProblem says what is wrong with a rule's path, or "".
func patternProblem(p string) string {
	switch {
	case p == "":
		return "empty path"
	case p[0] != '/':
		return fmt.Sprintf("path %q must start with \"/\"", p)
	case strings.Contains(p, "*"):
		return fmt.Sprintf("path %q: paths are prefixes, not globs or regular expressions (write /static/ for /static/*)", p)
	case strings.ContainsAny(p, "?#"):
		return fmt.Sprintf("path %q: routes match the path only, never the query or fragment", p)
	case strings.Contains(p, "%"):
		return fmt.Sprintf("path %q: write the path decoded (requests are matched on their decoded path)", p)
	}
	clean, _, err := CleanPath(p)
	if err != nil {
		var pe pathError
		errors.As(err, &pe)
		return fmt.Sprintf("path %q never matches: such requests are refused (%s)", p, string(pe))
	}
	if clean != p {
		return fmt.Sprintf("path %q is not clean: write %q", p, clean)
	}
	return ""
}
