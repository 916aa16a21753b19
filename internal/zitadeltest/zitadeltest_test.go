package zitadeltest_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/internal/zitadeltest"
)

const redirectURI = "http://127.0.0.1:1/cb" // never reached: the test stops at the redirect

// code signs username in through the provider's login form and returns the code the provider redirects with.
func code(t *testing.T, p *zitadeltest.Provider, conf *oauth2.Config, verifier, username string) string {
	t.Helper()
	browser := testkit.NewBrowser(t).Client
	browser.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), redirectURI) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := browser.Get(conf.AuthCodeURL("state", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	req, err := zitadeltest.LoginRequest(string(page), resp.Request.URL, username, zitadeltest.Password)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("login: %d %q, want a redirect with a code", resp.StatusCode, loc)
	}
	return loc.Query().Get("code")
}

func TestProviderLogsInThroughItsForm(t *testing.T) {
	tests := []struct {
		name string
		jwt  bool
	}{{"opaque access tokens", false}, {"JWT access tokens", true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := zitadeltest.Start(t, zitadeltest.Options{RedirectURIs: []string{redirectURI}, JWTAccessTokens: tc.jwt,
				Groups: map[string][]string{zitadeltest.UserID: {"admin"}}, GroupsIn: zitadeltest.InAccessToken})
			if !strings.HasSuffix(p.Issuer, "/") {
				t.Errorf("issuer %q: the example publishes a trailing slash", p.Issuer)
			}
			conf := &oauth2.Config{ClientID: zitadeltest.ClientID, ClientSecret: zitadeltest.ClientSecret,
				RedirectURL: redirectURI, Scopes: []string{"openid", "offline_access"},
				Endpoint: oauth2.Endpoint{AuthURL: p.Issuer + "auth", TokenURL: p.Issuer + "oauth/token",
					AuthStyle: oauth2.AuthStyleInHeader}}
			verifier := oauth2.GenerateVerifier()
			tok, err := conf.Exchange(t.Context(), code(t, p, conf, verifier, p.Username), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if tok.RefreshToken == "" || tok.Extra("id_token") == nil {
				t.Errorf("token response lacks a refresh or id token: %+v", tok)
			}
			if got := p.Tokens(); len(got) != 1 || got[0].AccessToken != tok.AccessToken {
				t.Errorf("recorded %d token responses, want this one", len(got))
			}
			parts := strings.Split(tok.AccessToken, ".")
			if isJWS := len(parts) == 3; isJWS != tc.jwt {
				t.Fatalf("access token with %d parts, want a JWT: %v", len(parts), tc.jwt)
			}
			if tc.jwt {
				payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
				var claims struct {
					Aud    []string `json:"aud"`
					Groups []string `json:"groups"`
				}
				json.Unmarshal(payload, &claims)
				if !slices.Contains(claims.Aud, zitadeltest.ClientID) || !slices.Equal(claims.Groups, []string{"admin"}) {
					t.Errorf("JWT access token claims %+v, want the client in aud and groups [admin]", claims)
				}
			}
		})
	}
}

func TestLoginRequestWithoutAForm(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1/login")
	if _, err := zitadeltest.LoginRequest("<p>signed out</p>", u, "u", "p"); err == nil {
		t.Error("LoginRequest on a page without a login form: want an error")
	}
}
