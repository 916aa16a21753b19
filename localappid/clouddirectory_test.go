package localappid_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/localappid"
)

// lastEmail returns the newest outbox email to an address of a template, read as a developer would: from
// GET /localappid/outbox.
func lastEmail(t *testing.T, f *fixture, to, template string) localappid.Email {
	t.Helper()
	res := get(t, http.DefaultClient, f.srv.URL()+"/localappid/outbox?"+url.Values{"to": {to}, "template": {template}}.Encode())
	var mails []localappid.Email
	if err := json.Unmarshal([]byte(res.body), &mails); err != nil || res.status != 200 {
		t.Fatalf("outbox: %d %s", res.status, res.body)
	}
	if len(mails) == 0 {
		t.Fatalf("no %s email to %s in the outbox", template, to)
	}
	m := mails[len(mails)-1]
	if len(m.Links) == 0 && (template == "USER_VERIFICATION" || template == "RESET_PASSWORD") {
		t.Fatalf("%s email has no link: %+v", template, m)
	}
	return m
}

// contextOf is the context parameter of an email's link.
func contextOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("context") == "" {
		t.Fatalf("link %q has no context", link)
	}
	return u.Query().Get("context")
}

func passwordStatus(t *testing.T, f *fixture, username, password string) (int, string) {
	t.Helper()
	res := postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}},
		localappid.DemoClientID, localappid.DemoClientSecret)
	return res.status, res.body
}

// TestCloudDirectoryManagement walks IBM's SelfServiceManager calls in order: sign-up, confirmation through the
// emailed link, forgot password, change password, user details read, updated and deleted.
func TestCloudDirectoryManagement(t *testing.T) {
	f := newFixture(t)
	iam := iamToken(t, f)
	res := mgmt(t, f, "POST", "/cloud_directory/sign_up?language=en", iam,
		`{"emails":[{"value":"erin@example.com","primary":true}],"password":"erin-pw","displayName":"Erin"}`)
	var created struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if json.Unmarshal([]byte(res.body), &created); res.status != 201 || created.ID == "" || created.Status != "PENDING" {
		t.Fatalf("sign_up: %d %s", res.status, res.body)
	}
	if res := mgmt(t, f, "POST", "/cloud_directory/sign_up", iam, `{"emails":[{"value":"ERIN@example.com"}],"password":"x"}`); res.status != 409 || !strings.Contains(res.body, `"scimType":"uniqueness"`) {
		t.Fatalf("second sign_up with the email: %d %s, want 409 uniqueness", res.status, res.body)
	}
	if status, body := passwordStatus(t, f, "erin@example.com", "erin-pw"); status != 403 || !strings.Contains(body, `"error_code":"FORBIDDEN"`) {
		t.Fatalf("sign-in before confirming: %d %s, want 403 FORBIDDEN", status, body)
	}
	verify := lastEmail(t, f, "erin@example.com", "USER_VERIFICATION")
	ctx := contextOf(t, verify.Links[0])
	if res := mgmt(t, f, "POST", "/cloud_directory/sign_up/confirmation_result", iam, `{"context":"`+ctx+`"}`); !strings.Contains(res.body, `"success":false`) {
		t.Fatalf("confirmation_result before the link was followed: %s", res.body)
	}
	if res := mgmt(t, f, "POST", "/cloud_directory/resend/USER_VERIFICATION", iam, `{"uuid":"`+created.ID+`"}`); res.status != 202 {
		t.Fatalf("resend: %d %s", res.status, res.body)
	}
	for range 2 { // a second visit confirms nothing more and sends no second welcome
		if res := get(t, browser(t), verify.Links[0]); res.status != 200 {
			t.Fatalf("following the confirmation link: %d %s", res.status, res.body)
		}
	}
	welcomes := 0
	for _, m := range f.p.Outbox() {
		if m.To == "erin@example.com" && m.Template == "WELCOME" {
			welcomes++
		}
	}
	if welcomes != 1 {
		t.Fatalf("%d WELCOME emails after confirming, want 1", welcomes)
	}
	if res := mgmt(t, f, "POST", "/cloud_directory/sign_up/confirmation_result", iam, `{"context":"`+ctx+`"}`); res.body != `{"success":true,"uuid":"`+created.ID+`"}`+"\n" {
		t.Fatalf("confirmation_result: %s", res.body)
	}
	if status, body := passwordStatus(t, f, "erin@example.com", "erin-pw"); status != 200 {
		t.Fatalf("sign-in after confirming: %d %s", status, body)
	}

	if res := mgmt(t, f, "POST", "/cloud_directory/forgot_password", iam, `{"email":"nobody@example.com"}`); res.status != 404 {
		t.Fatalf("forgot_password for an unknown email: %d, want 404", res.status)
	}
	if res := mgmt(t, f, "POST", "/cloud_directory/forgot_password?language=en", iam, `{"email":"erin@example.com"}`); res.status != 200 {
		t.Fatalf("forgot_password: %d %s", res.status, res.body)
	}
	reset := lastEmail(t, f, "erin@example.com", "RESET_PASSWORD")
	get(t, browser(t), reset.Links[0])
	if res := mgmt(t, f, "POST", "/cloud_directory/forgot_password/confirmation_result", iam, `{"context":"`+contextOf(t, reset.Links[0])+`"}`); !strings.Contains(res.body, `"success":true`) {
		t.Fatalf("forgot_password/confirmation_result: %s", res.body)
	}
	if res := mgmt(t, f, "POST", "/cloud_directory/change_password", iam, `{"uuid":"`+created.ID+`","newPassword":"erin-new"}`); res.status != 200 {
		t.Fatalf("change_password: %d %s", res.status, res.body)
	}
	lastEmail(t, f, "erin@example.com", "PASSWORD_CHANGED")
	if status, _ := passwordStatus(t, f, "erin@example.com", "erin-pw"); status != 400 {
		t.Fatalf("old password after the change: %d, want 400", status)
	}
	if status, body := passwordStatus(t, f, "erin@example.com", "erin-new"); status != 200 {
		t.Fatalf("new password: %d %s", status, body)
	}

	if res := mgmt(t, f, "GET", "/cloud_directory/Users/"+created.ID, iam, ""); res.status != 200 || !strings.Contains(res.body, `"value":"erin@example.com"`) || !strings.Contains(res.body, `"status":"CONFIRMED"`) {
		t.Fatalf("GET user: %d %s", res.status, res.body)
	}
	if res := mgmt(t, f, "PUT", "/cloud_directory/Users/"+created.ID, iam, `{"emails":[{"value":"erin2@example.com","primary":true}],"displayName":"Erin Two"}`); res.status != 200 || !strings.Contains(res.body, `"displayName":"Erin Two"`) {
		t.Fatalf("PUT user: %d %s", res.status, res.body)
	}
	if status, _ := passwordStatus(t, f, "erin2@example.com", "erin-new"); status != 200 {
		t.Fatalf("sign-in with the new email: %d", status)
	}
	if res := mgmt(t, f, "PUT", "/cloud_directory/Users/"+created.ID, iam, `{"emails":[{"value":"alice@example.com"}]}`); res.status != 409 {
		t.Fatalf("PUT user with another user's email: %d %s, want 409", res.status, res.body)
	}
	if res := mgmt(t, f, "DELETE", "/cloud_directory/Users/"+created.ID, iam, ""); res.status != 204 {
		t.Fatalf("DELETE user: %d %s", res.status, res.body)
	}
	if res := mgmt(t, f, "GET", "/cloud_directory/Users/"+created.ID, iam, ""); res.status != 404 || !strings.Contains(res.body, `"detail"`) {
		t.Fatalf("GET deleted user: %d %s, want a SCIM 404", res.status, res.body)
	}
	for _, tc := range []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"no IAM token", "POST", "/cloud_directory/sign_up", "", `{}`, 401},
		{"bad JSON", "POST", "/cloud_directory/sign_up", iam, `{`, 400},
		{"no email", "POST", "/cloud_directory/sign_up", iam, `{"password":"x"}`, 400},
		{"unknown template", "POST", "/cloud_directory/resend/SPAM", iam, `{"uuid":"` + localappid.AliceID + `"}`, 400},
		{"password in a details update", "PUT", "/cloud_directory/Users/" + localappid.AliceID, iam, `{"password":"x"}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := mgmt(t, f, tc.method, tc.path, tc.token, tc.body); res.status != tc.want {
				t.Fatalf("%d %s, want %d", res.status, res.body, tc.want)
			}
		})
	}
}

// submitForm posts a Cloud Directory page's form (its hidden fields, with values) from the same browser.
func submitForm(t *testing.T, c *http.Client, f *fixture, page response, action string, values map[string]string) response {
	t.Helper()
	if page.status != 200 {
		t.Fatalf("form page: %d %s", page.status, page.body)
	}
	form := formFields(t, page.body)
	for k, v := range values {
		form.Set(k, v)
	}
	return postForm(t, c, f.srv.URL()+f.p.OAuthPathForTest()+action, form, "", "")
}

// TestCloudDirectoryPages walks the browser pages IBM's WebAppStrategy redirects to: sign-up with
// response_type=sign_up and its emailed link, forgot password, change password and change details.
func TestCloudDirectoryPages(t *testing.T) {
	f := newFixture(t)
	b := browser(t)
	q := url.Values{"client_id": {localappid.DemoClientID}, "response_type": {"sign_up"}, "redirect_uri": {appRedirect}, "scope": {"appid_default"}}
	res := submitForm(t, b, f, get(t, b, f.iss+"/authorization?"+q.Encode()), "/cloud_directory/sign_up",
		map[string]string{"email": "gus@example.com", "name": "Gus", "password": "gus-pw"})
	if res.status != 200 || !strings.Contains(res.body, "Check your email") {
		t.Fatalf("sign-up: %d %s", res.status, res.body)
	}
	verify := get(t, b, lastEmail(t, f, "gus@example.com", "USER_VERIFICATION").Links[0])
	if loc := verify.header.Get("Location"); verify.status != 302 || loc != appRedirect+"?flow=sign_up" {
		t.Fatalf("confirmation link: %d Location %q, want a redirect to %s?flow=sign_up", verify.status, loc, appRedirect)
	}

	q = url.Values{"client_id": {localappid.DemoClientID}, "redirect_uri": {appRedirect}}
	res = submitForm(t, b, f, get(t, b, f.iss+"/cloud_directory/forgot_password?"+q.Encode()), "/cloud_directory/forgot_password",
		map[string]string{"email": "gus@example.com"})
	if res.status != 200 || !strings.Contains(res.body, "Check your email") {
		t.Fatalf("forgot password: %d %s", res.status, res.body)
	}
	resetLink := lastEmail(t, f, "gus@example.com", "RESET_PASSWORD").Links[0]
	res = submitForm(t, b, f, get(t, b, resetLink), "/cloud_directory/reset_password", map[string]string{"new_password": "gus-pw2"})
	if loc := res.header.Get("Location"); res.status != 302 || loc != appRedirect+"?flow=forgot_password" {
		t.Fatalf("reset: %d Location %q", res.status, loc)
	}
	if res := get(t, b, resetLink); res.status != 400 {
		t.Fatalf("reset link used twice: page %d, want 400", res.status)
	}
	status, body := passwordStatus(t, f, "gus@example.com", "gus-pw2")
	if status != 200 {
		t.Fatalf("sign-in with the reset password: %d %s", status, body)
	}
	var tk tokens
	json.Unmarshal([]byte(body), &tk)
	gusID, _ := jwtPart(t, tk.AccessToken, 1)["sub"].(string)

	q.Set("user_id", gusID)
	page := get(t, b, f.iss+"/cloud_directory/change_password?"+q.Encode())
	if res := submitForm(t, b, f, page, "/cloud_directory/change_password", map[string]string{"current_password": "wrong", "new_password": "x"}); res.status != 401 {
		t.Fatalf("change password with a wrong current one: %d, want 401", res.status)
	}
	res = submitForm(t, b, f, page, "/cloud_directory/change_password", map[string]string{"current_password": "gus-pw2", "new_password": "gus-pw3"})
	loc, _ := url.Parse(res.header.Get("Location"))
	if res.status != 302 || loc.Query().Get("code") == "" {
		t.Fatalf("change password: %d Location %q, want a redirect with a code", res.status, loc)
	}
	if r := exchange(t, f, loc.Query().Get("code"), ""); r.status != 200 {
		t.Fatalf("code after change password: %d %s", r.status, r.body)
	}

	req, _ := http.NewRequest("GET", f.iss+"/cloud_directory/generate_code", nil)
	req.Header.Set("Authorization", "Bearer "+tk.AccessToken+" "+tk.IDToken)
	gen := do(t, http.DefaultClient, req)
	if gen.status != 200 || !strings.HasPrefix(gen.header.Get("Content-Type"), "text/plain") || gen.body == "" {
		t.Fatalf("generate_code: %d %q %s", gen.status, gen.header.Get("Content-Type"), gen.body)
	}
	q.Del("user_id")
	q.Set("code", gen.body)
	res = submitForm(t, b, f, get(t, b, f.iss+"/cloud_directory/change_details?"+q.Encode()), "/cloud_directory/change_details",
		map[string]string{"name": "Gus Renamed", "email": "gus@example.com"})
	loc, _ = url.Parse(res.header.Get("Location"))
	if res.status != 302 || loc.Query().Get("code") == "" {
		t.Fatalf("change details: %d %s", res.status, res.body)
	}
	if id := jwtPart(t, decodeTokens(t, exchange(t, f, loc.Query().Get("code"), "")).IDToken, 1); id["name"] != "Gus Renamed" {
		t.Fatalf("id token after change details: name %v", id["name"])
	}
	if res := get(t, b, f.iss+"/cloud_directory/change_details?"+q.Encode()); res.status != 400 {
		t.Fatalf("change details code used twice: %d, want 400", res.status)
	}
}

// TestSignInPageLinks: the sign-in form links to sign-up and forgot password for the same application, as App
// ID's login widget does, and both pages open.
func TestSignInPageLinks(t *testing.T) {
	f := newFixture(t)
	b := browser(t)
	page := get(t, b, f.iss+"/authorization?"+authParams(appRedirect, "").Encode())
	for _, text := range []string{"Sign up", "Forgot your password?"} {
		m := regexp.MustCompile(`<a href="([^"]+)">` + regexp.QuoteMeta(text) + `</a>`).FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("sign-in page has no %q link:\n%s", text, page.body)
		}
		if res := get(t, b, f.srv.URL()+html.UnescapeString(m[1])); res.status != 200 || !strings.Contains(res.body, "<form") {
			t.Fatalf("%s link %s: %d", text, m[1], res.status)
		}
	}
}

// TestResetLinkOnce: a password reset link posted many times at once sets the password once; every other post
// is told the link is used.
func TestResetLinkOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *localappid.Config) { c.PasswordHashCost = 8 }) // slow enough for the posts to overlap
	iam := iamToken(t, f)
	for round := range 3 {
		if res := mgmt(t, f, "POST", "/cloud_directory/forgot_password", iam, `{"email":"bob@example.com"}`); res.status != 200 {
			t.Fatalf("forgot_password: %d %s", res.status, res.body)
		}
		b := browser(t)
		page := get(t, b, lastEmail(t, f, "bob@example.com", "RESET_PASSWORD").Links[0])
		if page.status != 200 {
			t.Fatalf("reset page: %d %s", page.status, page.body)
		}
		form := formFields(t, page.body)
		const posts = 8
		statuses := make(chan int, posts)
		start := make(chan struct{})
		for i := range posts {
			go func() {
				<-start
				v := url.Values{}
				for k, vs := range form {
					v[k] = vs
				}
				v.Set("new_password", fmt.Sprintf("bob-%d-%d", round, i))
				req, _ := http.NewRequest(http.MethodPost, f.srv.URL()+f.p.OAuthPathForTest()+"/cloud_directory/reset_password", strings.NewReader(v.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err := b.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				res.Body.Close()
				statuses <- res.StatusCode
			}()
		}
		close(start)
		ok := 0
		for range posts {
			switch s := <-statuses; s {
			case http.StatusOK:
				ok++
			case http.StatusBadRequest:
			default:
				t.Fatalf("round %d: a reset post answered %d, want 200 once and 400 for the others", round, s)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of %d concurrent posts of one reset link set the password, want 1", round, ok, posts)
		}
	}
}
