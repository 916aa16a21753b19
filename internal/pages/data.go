package pages

import (
	"net/http"
	"time"
)

// Data is what a page is rendered with: one of the types below, each naming its page.
type Data interface {
	// page names the template that renders this data.
	page() Name
}

// User is who a page is about.
type User struct {
	// ID is the user's subject (sub); Name and Email come from the tokens and may be empty.
	ID, Name, Email string
	// Roles and Scopes are what the user holds; ExpiresAt is when their access token expires.
	Roles, Scopes []string
	ExpiresAt     time.Time
}

// DisplayName is Name, else Email, else ID.
func (u User) DisplayName() string {
	switch {
	case u.Name != "":
		return u.Name
	case u.Email != "":
		return u.Email
	}
	return u.ID
}

// SignIn is localappid's sign-in form (signin.html).
type SignIn struct {
	// ClientName is the application being signed in to; Action is the form's POST target.
	ClientName, Action string
	// Username refills the form after a failed attempt; Message says what failed ("" at first).
	Username, Message string
	// Hidden are the form's hidden fields: the authorization request and its CSRF token.
	Hidden []Field
	// DemoUsers, in demo mode, are the users one may sign in as, with their passwords; empty otherwise.
	DemoUsers []DemoUser
	// Links are the other ways on from the form, as App ID's login widget has them: sign up, forgot password.
	Links []Link
}

// Field is a hidden form field.
type Field struct{ Name, Value string }

// DemoUser is a demo user shown on the sign-in page.
type DemoUser struct {
	Username, Password string
	Roles              []string
}

// Profile is the demo's /profile page (profile.html).
type Profile struct {
	User User
	// Links are the demo's routes; LogoutAction is where its log-out form posts.
	Links        []Link
	LogoutAction string
}

// Link is a link of a page's navigation; Current marks the page itself.
type Link struct {
	URL, Text string
	Current   bool
}

// Forbidden is the 403 page of a signed-in user whom a route's policy refuses (forbidden.html).
type Forbidden struct {
	// User is who is signed in.
	User User
	// Required says in words what the route needs ("the role admin"); Policy is the policy's name (role:admin).
	Required, Policy string
	// Contact is whom to ask for access (APPIDGATE_ACCESS_CONTACT), "" when unset; ContactURL is its link when
	// it is a mailto: or http(s) URL, and Contact is then the address or URL to show.
	Contact, ContactURL string
	// LogoutAction and ReturnTo make the "sign in as someone else" form: it posts return_to to LogoutAction.
	LogoutAction, ReturnTo string
	// RequestID is the id of this request in the log.
	RequestID string
}

// Error is a page saying what failed (error.html): the identity provider, the session store, the application
// behind the proxy, a bad request. It is also used for short notices with Status below 400.
type Error struct {
	Status int
	// Title says what failed; Message says more and what to do.
	Title, Message string
	// RetryURL, when set, is where "Try again" leads.
	RetryURL string
	// RequestID is the id of this request in the log, "" when not logged.
	RequestID string
	// Brand names who shows the page ("Local App ID" for the provider's pages); "" means appidgate.
	Brand string
}

// StatusText is the standard text of Status, such as "Service Unavailable".
func (e Error) StatusText() string { return http.StatusText(e.Status) }

// Logout asks a signed-in user to confirm logging out (logout.html).
type Logout struct {
	// User is who is signed in; its ID is "" when that is not known.
	User User
	// Action is where the form posts; ReturnTo, when set, is posted as return_to (where to land afterwards).
	Action, ReturnTo string
	// CancelURL is where "Stay signed in" leads.
	CancelURL string
}

// SignedOut says the session has ended (signedout.html).
type SignedOut struct {
	// SignInURL is where "Sign in again" leads; ContinueURL, when set, is where the logout was to return.
	SignInURL, ContinueURL string
	// ProviderSessionKept is true when the identity provider could not be told of the logout, so that its own
	// session may sign the user in again without a password.
	ProviderSessionKept bool
}

// Form is one of localappid's Cloud Directory forms (form.html): sign-up, forgot and change password, change
// details.
type Form struct {
	// Title heads the page; Lead says what the form does; Message says what failed ("" at first).
	Title, Lead, Message string
	// Action is the form's POST target; Submit labels its button.
	Action, Submit string
	// Inputs are the visible fields, in order; Hidden are the hidden ones (the request and its CSRF token).
	Inputs []Input
	Hidden []Field
}

// Input is a visible form field: its label, name, type (text, email, password), value and autocomplete token.
type Input struct {
	Label, Name, Type, Value, Autocomplete string
}

func (SignIn) page() Name    { return SignInPage }
func (Form) page() Name      { return FormPage }
func (Profile) page() Name   { return ProfilePage }
func (Forbidden) page() Name { return ForbiddenPage }
func (Error) page() Name     { return ErrorPage }
func (Logout) page() Name    { return LogoutPage }
func (SignedOut) page() Name { return SignedOutPage }

// samples returns, for each page, data that uses every field, and the zero value: an operator's template must
// render both, so that a template that would fail on some request fails at start instead.
func samples() map[Name][]Data {
	u := User{ID: "a11ce000-0000-4000-8000-000000000001", Name: "Alice", Email: "alice@example.com",
		Roles: []string{"user", "admin"}, Scopes: []string{"appidgate-demo/view"},
		ExpiresAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	return map[Name][]Data{
		SignInPage: {SignIn{ClientName: "appidgate demo", Action: "/oauth/v4/local-tenant/authorization",
			Username: "alice", Message: "Wrong username or password.",
			Hidden:    []Field{{"client_id", "appidgate-demo"}, {"state", "s"}},
			DemoUsers: []DemoUser{{"alice", "alice", []string{"user"}}, {"bob", "bob", nil}},
			Links: []Link{{URL: "/oauth/v4/local-tenant/authorization?response_type=sign_up", Text: "Sign up"},
				{URL: "/oauth/v4/local-tenant/cloud_directory/forgot_password", Text: "Forgot your password?"}}}, SignIn{}},
		ProfilePage: {Profile{User: u, Links: []Link{{"/profile", "/profile", true}, {"/auth_route", "/auth_route", false}},
			LogoutAction: "/logout"}, Profile{}},
		ForbiddenPage: {Forbidden{User: u, Required: "the role admin", Policy: "role:admin",
			Contact: "access@example.com", ContactURL: "mailto:access@example.com", LogoutAction: "/logout",
			ReturnTo: "/afterauth", RequestID: "0123456789abcdef"}, Forbidden{}},
		ErrorPage: {Error{Status: http.StatusServiceUnavailable, Title: "Could not reach the identity provider",
			Message: "The login service is unavailable at the moment.", RetryURL: "/auth_route",
			RequestID: "0123456789abcdef", Brand: "appidgate"}, Error{}},
		LogoutPage:    {Logout{User: u, Action: "/logout", ReturnTo: "/profile", CancelURL: "/"}, Logout{}},
		SignedOutPage: {SignedOut{SignInURL: "/", ContinueURL: "/noauth_route", ProviderSessionKept: true}, SignedOut{}},
		FormPage: {Form{Title: "Reset your password", Lead: "Enter the email address of your account.",
			Message: "No account has this email address.", Action: "/oauth/v4/local-tenant/cloud_directory/forgot_password",
			Submit: "Send reset link", Inputs: []Input{{"Email", "email", "email", "alice@example.com", "email"}},
			Hidden: []Field{{"client_id", "appidgate-demo"}}}, Form{}},
	}
}
