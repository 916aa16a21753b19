// Package localappidtest helps tests of relying parties: it starts a localappid provider for the length of a test
// and drives its login page as a browser would.
package localappidtest

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

var (
	formAction  = regexp.MustCompile(`<form[^>]*\saction="([^"]+)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

// LoginRequest returns the POST that submits the login form in page, the HTML that localappid's /authorization
// served at pageURL, signing in as username with password. It carries the form's hidden fields (the request's
// parameters and the CSRF token); send it with the client that fetched the page, whose cookies the form needs.
func LoginRequest(page string, pageURL *url.URL, username, password string) (*http.Request, error) {
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("localappidtest: no login form in the page at %s", pageURL)
	}
	action, err := pageURL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return nil, fmt.Errorf("localappidtest: form action %q: %w", m[1], err)
	}
	form := url.Values{}
	for _, h := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	form.Set("username", username)
	form.Set("password", password)
	req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("localappidtest: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}
