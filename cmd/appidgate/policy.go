package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/settings"
	"github.com/appidgate/appidgate/proxy"
)

const policyUsage = `usage: appidgate policy check [flags] METHOD PATH
       appidgate policy lint [flags] ROUTES.yaml [MORE.yaml ...]

Asks the proxy's routes a question before they are deployed, with the proxy's own parser and matcher. The
route flags (--routes, --public, --api, --policy, --default-policy) are the proxy's, so a command line can be
copied from a real invocation.

check: which rule a request matches (its path, and where it is written), what the rule needs, and whether the
user of --user, --roles, --scopes and --claim is allowed, and why. The path is cleaned as the proxy cleans it
(/public/../admin is decided as /admin). Without --user the request has no session. Exit status: 0 allowed,
1 refused (or sign-in needed), 2 bad usage or routes with problems.

lint: every problem of each routes file (with the route flags), each with its file, line and column, and the
warnings the proxy logs at start. Exit status: 0 no problem, 1 problems (with --strict, warnings too), 2 bad
usage.

flags:
`

// runPolicy runs appidgate policy.
func runPolicy(_ context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, policyUsage)
		return 2
	}
	switch args[0] {
	case "check":
		return runPolicyCheck(args[1:], e)
	case "lint":
		return runPolicyLint(args[1:], e)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, policyUsage)
		return 0
	}
	fmt.Fprintf(e.stderr, "appidgate policy: unknown subcommand %q (check or lint)\n\n%s", args[0], policyUsage)
	return 2
}

// policyCommand is a policy subcommand's flags.
type policyCommand struct {
	fs     *flag.FlagSet
	routes proxyFlags
	// check
	user           string
	roles, scopes  listFlag
	claims         claimFlag
	bearer, strict bool
}

// claimFlag collects --claim NAME=VALUE values; a name given twice makes an array claim.
type claimFlag []string

func (c *claimFlag) String() string { return strings.Join(*c, " ") }

func (c *claimFlag) Set(s string) error {
	if k, _, ok := strings.Cut(s, "="); !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("expected NAME=VALUE, such as groups=admins, got %q", s)
	}
	*c = append(*c, s)
	return nil
}

// newPolicyCommand returns the flags of appidgate policy NAME: the proxy's route flags, and for check the
// made-up user's.
func newPolicyCommand(name string, e env) *policyCommand {
	c := &policyCommand{fs: flag.NewFlagSet("appidgate policy "+name, flag.ContinueOnError)}
	fs := c.fs
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	r := settings.NewReader(e.lookupEnv, nil)
	h := settings.FlagHelp
	if name == "check" {
		fs.StringVar(&c.routes.routesFile, "routes", r.String("APPIDGATE_ROUTES"), h("routes"))
	}
	fs.Var(&c.routes.public, "public", h("public"))
	fs.Var(&c.routes.api, "api", h("api"))
	fs.Var(&c.routes.policies, "policy", h("policy"))
	fs.StringVar(&c.routes.defaultPolicy, "default-policy", "", h("default-policy"))
	switch name {
	case "check":
		fs.StringVar(&c.user, "user", "", "the signed-in user's id; without it, the request has no session")
		fs.Var(&c.roles, "roles", "the user's roles, comma-separated (repeatable)")
		fs.Var(&c.scopes, "scopes", "the scopes of the user's access token, comma-separated (repeatable)")
		fs.Var(&c.claims, "claim", "a claim of the user's token, NAME=VALUE; a NAME given twice is an array (repeatable)")
		fs.BoolVar(&c.bearer, "bearer", false, "the request carries an Authorization: Bearer token of the user, not a session")
	case "lint":
		fs.BoolVar(&c.strict, "strict", false, "warnings are problems too")
	}
	return c
}

// parse parses args, flags and operands in any order, printing usage and errors; ok false means exit with code.
func (c *policyCommand) parse(args []string, e env) (operands []string, code int, ok bool) {
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, policyUsage)
		c.fs.SetOutput(w)
		c.fs.PrintDefaults()
		c.fs.SetOutput(io.Discard)
	}
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printUsage(e.stdout)
				return nil, 0, false
			}
			fmt.Fprintf(e.stderr, "%s: %v\n\n", c.fs.Name(), err)
			printUsage(e.stderr)
			return nil, 2, false
		}
		args = c.fs.Args()
		if len(args) == 0 {
			return operands, 0, true
		}
		operands, args = append(operands, args[0]), args[1:]
	}
}

// runPolicyCheck runs appidgate policy check.
func runPolicyCheck(args []string, e env) int {
	c := newPolicyCommand("check", e)
	operands, code, ok := c.parse(args, e)
	if !ok {
		return code
	}
	if len(operands) != 2 {
		fmt.Fprintf(e.stderr, "appidgate policy check: expected METHOD PATH, such as GET /admin/x, got %q\n",
			strings.Join(operands, " "))
		return 2
	}
	if c.user == "" && (len(c.roles) > 0 || len(c.scopes) > 0 || len(c.claims) > 0 || c.bearer) {
		fmt.Fprintln(e.stderr, "appidgate policy check: --roles, --scopes, --claim and --bearer describe a user: give --user too")
		return 2
	}
	routes, err := loadRoutes(c.routes)
	if err != nil {
		fmt.Fprintf(e.stderr, "appidgate policy check: %v\n", err)
		return 2
	}
	var user *appid.User
	if c.user != "" {
		user = &appid.User{ID: c.user, Roles: c.roles, Scopes: c.scopes, Claims: claimsOf(c.claims)}
	}
	allowed := explain(e.stdout, routes.Routes(), operands[0], operands[1], user, c.bearer)
	if !allowed {
		return 1
	}
	return 0
}

// claimsOf makes a token's claims of NAME=VALUE values: a name given twice holds an array.
func claimsOf(values []string) map[string]any {
	if len(values) == 0 {
		return nil
	}
	claims := map[string]any{}
	for _, v := range values {
		k, val, _ := strings.Cut(v, "=")
		k = strings.TrimSpace(k)
		switch old := claims[k].(type) {
		case nil:
			claims[k] = val
		case string:
			claims[k] = []any{old, val}
		case []any:
			claims[k] = append(old, val)
		}
	}
	return claims
}

// explain writes how the proxy decides method and rawPath for user (nil: no session), who sends a bearer token
// when bearer, and reports whether the request is allowed. It takes the proxy's steps in the proxy's order: the
// method, the path's cleaning, the rule, then the rule's policy.
func explain(w io.Writer, routes *proxy.Routes, method, rawPath string, user *appid.User, bearer bool) bool {
	fmt.Fprintf(w, "request: %s %s\n", method, rawPath)
	if !proxy.ValidMethod(method) {
		fmt.Fprintf(w, "refused: the proxy answers 400 to the method %q: methods are upper case, such as GET\n", method)
		return false
	}
	path, _, _ := strings.Cut(rawPath, "#")
	path, _, _ = strings.Cut(path, "?") // rules match the path, never the query
	clean, changed, err := proxy.CleanPath(path)
	if err != nil {
		fmt.Fprintf(w, "refused: the proxy answers 400 to the path %q: it is malformed or ambiguous\n", path)
		return false
	}
	if changed {
		fmt.Fprintf(w, "path:    %s, cleaned: the proxy redirects (308) there, and decides that\n", clean)
	}
	rule := routes.Match(method, clean)
	where := cmp.Or(rule.Source, "built in")
	if rule.Pattern == "default" {
		where = "no rule names the path; the default, " + where
	}
	fmt.Fprintf(w, "rule:    %s (%s)\n", rule.Pattern, where)
	if rule.Public {
		fmt.Fprintln(w, "needs:   nothing: the route is public")
		fmt.Fprintln(w, "allowed: public, no sign-in needed")
		return true
	}
	needs := rule.PolicyText
	var kind []string
	if rule.API {
		kind = append(kind, "an API: 401 without a session, never a login redirect")
	}
	if rule.Bearer {
		kind = append(kind, "bearer tokens accepted")
	}
	if len(kind) > 0 {
		fmt.Fprintf(w, "needs:   %s (%s)\n", needs, strings.Join(kind, "; "))
	} else {
		fmt.Fprintf(w, "needs:   %s\n", needs)
	}
	if user == nil {
		answer := "a browser is sent to sign in, an API client gets 401"
		if rule.API {
			answer = "401"
		}
		fmt.Fprintf(w, "refused: sign-in needed (%s)\n", answer)
		return false
	}
	have := describeUser(user, needs)
	fmt.Fprintf(w, "user:    %s\n", have)
	if bearer && !rule.Bearer {
		fmt.Fprintln(w, "refused: the rule takes no bearer tokens (bearer: true would): the token is ignored, and "+
			"without a session the request needs sign-in")
		return false
	}
	by := ""
	if bearer {
		by = " (by the bearer token)"
	}
	if rule.Policy.Allows(user) {
		fmt.Fprintf(w, "allowed: %s meets %s%s\n", user.ID, needs, by)
		return true
	}
	fmt.Fprintf(w, "refused: needs %s; %s%s (403)\n", needs, have, by)
	return false
}

// describeUser says what u holds: its roles always, its scopes and claims when it has some or the policy named
// needs asks for them.
func describeUser(u *appid.User, needs string) string {
	list := func(v []string) string {
		if len(v) == 0 {
			return "none"
		}
		return strings.Join(v, ", ")
	}
	parts := []string{u.ID + " has roles " + list(u.Roles)}
	if len(u.Scopes) > 0 || strings.Contains(needs, "scope:") {
		parts = append(parts, "scopes "+list(u.Scopes))
	}
	if len(u.Claims) > 0 || strings.Contains(needs, "claim:") {
		var claims []string
		for k, v := range u.Claims {
			claims = append(claims, fmt.Sprintf("%s=%v", k, v))
		}
		slices.Sort(claims)
		parts = append(parts, "claims "+list(claims))
	}
	return strings.Join(parts, "; ")
}

// runPolicyLint runs appidgate policy lint.
func runPolicyLint(args []string, e env) int {
	c := newPolicyCommand("lint", e)
	files, code, ok := c.parse(args, e)
	if !ok {
		return code
	}
	flags := routeFlags(c.routes)
	if len(files) == 0 {
		if len(flags.Public)+len(flags.API)+len(flags.Policy) == 0 && flags.Default == "" {
			fmt.Fprintln(e.stderr, "appidgate policy lint: expected one or more routes files, such as routes.yaml")
			return 2
		}
		files = []string{""} // the flags alone
	}
	var problems, warnings int
	for _, file := range files {
		name := cmp.Or(file, "flags")
		routes, err := proxy.LoadRoutes(file, flags)
		if err != nil {
			list := []string{strings.TrimPrefix(err.Error(), "proxy: routes: ")}
			var re *proxy.RoutesError
			if errors.As(err, &re) {
				list = problemTexts(re.Problems)
			}
			for _, p := range list {
				fmt.Fprintln(e.stdout, p)
			}
			problems += len(list)
			continue
		}
		ws := routes.PublicFallThroughs()
		for _, w := range ws {
			fmt.Fprintf(e.stdout, "%s: warning: %s\n", name, w)
		}
		warnings += len(ws)
		if len(ws) == 0 {
			fmt.Fprintf(e.stdout, "%s: ok\n", name)
		}
	}
	if problems > 0 || warnings > 0 {
		fmt.Fprintf(e.stdout, "%d problem(s), %d warning(s)\n", problems, warnings)
	}
	if problems > 0 || (c.strict && warnings > 0) {
		return 1
	}
	return 0
}
