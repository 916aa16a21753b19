package localappid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
)

// maxBodyParams bounds how many parameters a client-authenticated request may carry; OAuth requests send a
// handful.
const maxBodyParams = 64

// readClientBody reads the body of a client-authenticated endpoint (token, introspect, revoke) as App ID does:
// url-encoded (what most OAuth clients send), multipart/form-data (IBM's Node SDK at login and refresh) or JSON
// (the SDK's TokenManager). It sets r.PostForm and r.Form to the parameters. A body over maxFormBytes is 413; a
// malformed one, an unknown content type or a parameter given twice is invalid_request naming the problem.
func readClientBody(w http.ResponseWriter, r *http.Request) *oauthError {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &oauthError{status: http.StatusRequestEntityTooLarge, code: "invalid_request", description: "request body too large"}
		}
		return invalidRequest("the request body could not be read")
	}
	v, err := parseClientBody(r.Header.Get("Content-Type"), body)
	if err != nil {
		return invalidRequest(err.Error())
	}
	r.PostForm, r.Form = v, v
	return nil
}

// parseClientBody decodes a request body by its Content-Type into parameters, each at most once. An empty
// Content-Type is read as url-encoded, as OAuth bodies are.
func parseClientBody(contentType string, body []byte) (url.Values, error) {
	mediaType, params := "application/x-www-form-urlencoded", map[string]string{}
	if contentType != "" {
		var err error
		if mediaType, params, err = mime.ParseMediaType(contentType); err != nil {
			return nil, fmt.Errorf("malformed Content-Type %q", contentType)
		}
	}
	var v url.Values
	var err error
	switch mediaType {
	case "application/x-www-form-urlencoded":
		v, err = parseURLEncoded(body)
	case "multipart/form-data":
		v, err = parseMultipart(body, params["boundary"])
	case "application/json":
		v, err = parseJSONObject(body)
	default:
		return nil, fmt.Errorf("Content-Type %s is not supported (send application/x-www-form-urlencoded, multipart/form-data or application/json)", mediaType)
	}
	if err != nil {
		return nil, err
	}
	if len(v) > maxBodyParams {
		return nil, fmt.Errorf("the body holds more than %d parameters", maxBodyParams)
	}
	return v, nil
}

func parseURLEncoded(body []byte) (url.Values, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errors.New("malformed form body")
	}
	for name, values := range v {
		if len(values) > 1 {
			return nil, fmt.Errorf("parameter %s given more than once", name)
		}
	}
	return v, nil
}

// parseMultipart reads multipart/form-data fields; a file part counts as a field with its content.
func parseMultipart(body []byte, boundary string) (url.Values, error) {
	if boundary == "" {
		return nil, errors.New("malformed multipart body: the Content-Type has no boundary")
	}
	if !bytes.Contains(body, []byte("--"+boundary+"--")) {
		return nil, errors.New("malformed multipart body: no closing boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	v := url.Values{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed multipart body: %v", err)
		}
		name := part.FormName()
		if name == "" {
			return nil, errors.New("malformed multipart body: a part has no form field name")
		}
		value, err := io.ReadAll(part) // bounded: the whole body is
		if err != nil {
			return nil, fmt.Errorf("malformed multipart body: field %s: %v", name, err)
		}
		if v.Has(name) {
			return nil, fmt.Errorf("parameter %s given more than once", name)
		}
		if len(v) >= maxBodyParams {
			return nil, fmt.Errorf("the body holds more than %d parameters", maxBodyParams)
		}
		v.Set(name, string(value))
	}
	return v, nil
}

// parseJSONObject reads a JSON object whose members are strings (null members are left out, as absent).
func parseJSONObject(body []byte) (url.Values, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("malformed JSON body: not a JSON object")
	}
	v := url.Values{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("malformed JSON body")
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("malformed JSON body")
		}
		if seen[name] {
			return nil, fmt.Errorf("parameter %s given more than once", name)
		}
		seen[name] = true
		if len(seen) > maxBodyParams {
			return nil, fmt.Errorf("the body holds more than %d parameters", maxBodyParams)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errors.New("malformed JSON body")
		}
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("malformed JSON body: %s must be a string", name)
		}
		if s != nil {
			v.Set(name, *s)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errors.New("malformed JSON body")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("malformed JSON body: data after the object")
	}
	return v, nil
}
