package localappid_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/localappid"
)

// multipartBody encodes fields as multipart/form-data, as IBM's Node SDK posts its login and refresh requests.
func multipartBody(t testing.TB, fields [][2]string) (body, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String(), mw.FormDataContentType()
}

// postTyped posts body with a Content-Type and the demo client's Basic credentials (raw, as the SDK sends them).
func postTyped(t testing.TB, u, contentType, body string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.SetBasicAuth(localappid.DemoClientID, localappid.DemoClientSecret)
	return do(t, http.DefaultClient, req)
}

// TestTokenBodies checks the token endpoint reads the three bodies App ID reads, and names what is wrong with a
// body it cannot read.
func TestTokenBodies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	mp, mpType := multipartBody(t, [][2]string{{"grant_type", "client_credentials"}})
	mpTwice, mpTwiceType := multipartBody(t, [][2]string{{"grant_type", "client_credentials"}, {"grant_type", "password"}})
	for _, tc := range []struct {
		name, contentType, body string
		wantStatus              int
		wantError, wantDesc     string
	}{
		{"url-encoded", "application/x-www-form-urlencoded", "grant_type=client_credentials", 200, "", ""},
		{"no content type is url-encoded", "", "grant_type=client_credentials", 200, "", ""},
		{"multipart/form-data", mpType, mp, 200, "", ""},
		{"JSON", "application/json", `{"grant_type":"client_credentials"}`, 200, "", ""},
		{"JSON with charset and null member", "application/json; charset=utf-8", `{"grant_type":"client_credentials","scope":null}`, 200, "", ""},
		{"JSON not an object", "application/json", `["grant_type"]`, 400, "invalid_request", "malformed JSON body: not a JSON object"},
		{"JSON number member", "application/json", `{"grant_type":7}`, 400, "invalid_request", "malformed JSON body: grant_type must be a string"},
		{"JSON member twice", "application/json", `{"grant_type":"a","grant_type":"b"}`, 400, "invalid_request", "parameter grant_type given more than once"},
		{"JSON trailing data", "application/json", `{"grant_type":"client_credentials"} {}`, 400, "invalid_request", "malformed JSON body: data after the object"},
		{"JSON truncated", "application/json", `{"grant_type":"client_cre`, 400, "invalid_request", "malformed JSON body"},
		{"multipart without boundary", "multipart/form-data", mp, 400, "invalid_request", "malformed multipart body: the Content-Type has no boundary"},
		{"multipart truncated", mpType, mp[:len(mp)/2], 400, "invalid_request", "malformed multipart body: "},
		{"multipart field twice", mpTwiceType, mpTwice, 400, "invalid_request", "parameter grant_type given more than once"},
		{"unsupported type", "text/plain", "grant_type=client_credentials", 400, "invalid_request", "Content-Type text/plain is not supported"},
		{"malformed type", "multipart/;;", "x", 400, "invalid_request", "malformed Content-Type"},
		{"too large", "application/json", `{"grant_type":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "invalid_request", "request body too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := postTyped(t, f.iss+"/token", tc.contentType, tc.body)
			if res.status != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", res.status, tc.wantStatus, res.body)
			}
			tk := decodeTokens(t, res)
			if tk.Error != tc.wantError {
				t.Errorf("error %q, want %q", tk.Error, tc.wantError)
			}
			if tc.wantStatus == 200 && tk.AccessToken == "" {
				t.Errorf("no access token in %s", res.body)
			}
			if !strings.Contains(res.body, tc.wantDesc) {
				t.Errorf("body %s does not say %q", res.body, tc.wantDesc)
			}
		})
	}
}

// TestClientBasicAsSent checks a secret holding characters that form-url-encoding changes is accepted as the SDKs
// send it (raw) and as RFC 6749 says (encoded).
func TestClientBasicAsSent(t *testing.T) {
	const id, secret = "plus-client", "se+cr/et=="
	f := newFixture(t, func(c *localappid.Config) {
		c.Clients = append(c.Clients, localappid.Client{ID: id, Secret: secret})
	})
	for _, tc := range []struct {
		name, user, pass string
		want             int
	}{
		{"raw", id, secret, 200},
		{"form-url-encoded", id, "se%2Bcr%2Fet%3D%3D", 200},
		{"wrong", id, "se cr/et==", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := postRaw(t, http.DefaultClient, f.iss+"/token", "grant_type=client_credentials", tc.user, tc.pass)
			if res.status != tc.want {
				t.Fatalf("status %d, want %d: %s", res.status, tc.want, res.body)
			}
		})
	}
}
