package localappid

import (
	"testing"
)

// FuzzParseClientBody feeds the token endpoint's body parser hostile bodies and content types: it must never
// panic, and what it accepts holds each parameter once and no more than maxBodyParams of them.
func FuzzParseClientBody(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", []byte("grant_type=client_credentials&scope=a+b"))
	f.Add("application/json", []byte(`{"grant_type":"password","username":"alice","scope":null}`))
	f.Add("multipart/form-data; boundary=XyZ", []byte("--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nrefresh_token\r\n--XyZ--\r\n"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		v, err := parseClientBody(contentType, body)
		if err != nil {
			if v != nil {
				t.Fatalf("error %v with parameters %v", err, v)
			}
			return
		}
		if len(v) > maxBodyParams {
			t.Fatalf("%d parameters accepted, limit %d", len(v), maxBodyParams)
		}
		for name, values := range v {
			if len(values) != 1 {
				t.Fatalf("parameter %q has %d values", name, len(values))
			}
		}
	})
}
