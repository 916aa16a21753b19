package appid

import (
	"net/http"
	"strings"

	"github.com/appidgate/appidgate/internal/logging"
	"github.com/appidgate/appidgate/internal/pages"
)

// loadPages loads the built-in pages with the operator's templates in dir; a refused folder gives a
// *ConfigError with one problem per bad file, each naming setting.
func loadPages(dir, setting string) (*pages.Set, *ConfigError) {
	set, err := pages.Load(dir)
	if err == nil {
		return set, nil
	}
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	ce := &ConfigError{}
	for _, e := range errs {
		ce.Problems = append(ce.Problems, Problem{Setting: setting, Reason: e.Error()})
	}
	return nil, ce
}

// writePage answers with a page; a template that fails is logged (the built-in page answers instead).
func (a *Auth) writePage(w http.ResponseWriter, r *http.Request, status int, csp string, data pages.Data) {
	if err := a.pages.Write(w, status, csp, data); err != nil {
		a.log.ErrorContext(r.Context(), "appid: rendering a page failed", "error", err)
	}
}

// requestID is the id of r in the request log: the logging middleware's, else the X-Request-Id that some other
// middleware set on the answer, else "".
func requestID(w http.ResponseWriter, r *http.Request) string {
	if id := logging.RequestID(r.Context()); id != "" {
		return id
	}
	return w.Header().Get(logging.RequestIDHeader)
}

// pageUser is who a page shows as signed in.
func pageUser(u *User) pages.User {
	return pages.User{ID: u.ID, Name: u.Name, Email: u.Email, Roles: u.Roles, Scopes: u.Scopes, ExpiresAt: u.ExpiresAt}
}

// describePolicy says in words what a policy named name requires, for the 403 page: "the role admin" for
// role:admin. Names it does not know (combinations, PolicyFunc names) are returned as they are.
func describePolicy(name string) string {
	switch {
	case name == "any_role":
		return "at least one role"
	case name == "authenticated":
		return "a signed-in user"
	case strings.HasPrefix(name, "role:") && !strings.ContainsAny(name, ",|()"):
		return "the role " + strings.TrimPrefix(name, "role:")
	case strings.HasPrefix(name, "scope:") && !strings.ContainsAny(name, ",|()"):
		return "the scope " + strings.TrimPrefix(name, "scope:")
	}
	return name
}

// contactLink splits an access contact into the text to show and, for a mailto: or http(s) URL, its link.
func contactLink(contact string) (text, link string) {
	lower := strings.ToLower(contact)
	switch {
	case strings.HasPrefix(lower, "mailto:"):
		text, _, _ = strings.Cut(contact[len("mailto:"):], "?")
		return text, contact
	case strings.HasPrefix(lower, "https://"), strings.HasPrefix(lower, "http://"):
		return contact, contact
	}
	return contact, ""
}
