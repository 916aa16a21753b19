package appidenv

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/settings"
)

// ceServicesVar is where IBM Cloud Code Engine puts the credentials of the service instances bound to an app
// (ibmcloud ce application bind): a JSON object that maps each service type to a list of bindings, each with
// the instance's name and its service credentials. App ID's type is "appid".
const ceServicesVar = "CE_SERVICES"

// The App ID variables a binding stands in for; they are taken from it only when all three are unset.
var bindingVars = []string{"APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "APPID_OAUTH_SERVER_URL"}

// ServiceBinding is the App ID service binding of a Code Engine app that Read takes settings from.
type ServiceBinding struct {
	// Name is the bound App ID instance's name, as CE_SERVICES gives it ("appid[0]" when it gives none).
	Name string
	// Settings lists the variables whose values come from the binding: APPID_CLIENT_ID, APPID_CLIENT_SECRET and
	// APPID_OAUTH_SERVER_URL, and APPIDGATE_MANAGEMENT_URL and IBM_CLOUD_APIKEY (from the credentials' apikey)
	// when those are unset.
	Settings []string
}

// CEServicesBinding reports whether Read, given the same lookup, reads the App ID settings from a
// Code Engine service binding, and from which: a zero ServiceBinding when it does not. It does when
// APPID_CLIENT_ID, APPID_CLIENT_SECRET and APPID_OAUTH_SERVER_URL are all unset and CE_SERVICES holds exactly
// one App ID binding (an "appid" entry); then clientId, secret and oauthServerUrl stand in for those three,
// managementUrl for APPIDGATE_MANAGEMENT_URL and apikey for IBM_CLOUD_APIKEY unless they are set. Explicit
// variables always win: with all three set, CE_SERVICES is not read. It is not read either when
// APPIDGATE_PROVIDER names a provider other than App ID.
//
// The error, an *appid.ConfigError naming CE_SERVICES, is one Read reports too: CE_SERVICES is not JSON,
// holds several App ID bindings (all named), or a binding lacks a credential, or only some of the three
// variables are set while a binding is there to supply them.
func CEServicesBinding(lookup func(string) (string, bool)) (ServiceBinding, error) {
	b, problems := readCEServices(settings.NewReader(lookup, nil))
	if len(problems) > 0 {
		return ServiceBinding{}, &appid.ConfigError{Problems: problems}
	}
	return b.ServiceBinding, nil
}

// ceBinding is a binding that supplies settings, with the values it supplies.
type ceBinding struct {
	ServiceBinding
	values map[string]string // variable name -> value, for the names in Settings
}

// ceAppIDCredentials are the parts of App ID's service credentials that stand in for settings.
type ceAppIDCredentials struct {
	ClientID       string `json:"clientId"`
	Secret         string `json:"secret"`
	OAuthServerURL string `json:"oauthServerUrl"`
	ManagementURL  string `json:"managementUrl"`
	APIKey         string `json:"apikey"`
}

// ceServiceEntry is one binding in a CE_SERVICES list.
type ceServiceEntry struct {
	Name        string              `json:"name"`
	Credentials *ceAppIDCredentials `json:"credentials"`
}

// readCEServices finds the App ID binding in CE_SERVICES that supplies settings, as CEServicesBinding describes.
func readCEServices(r *settings.Reader) (ceBinding, []appid.Problem) {
	get := r.String
	raw := get(ceServicesVar)
	if raw == "" {
		return ceBinding{}, nil
	}
	if p := get("APPIDGATE_PROVIDER"); p != "" && !strings.EqualFold(p, "appid") {
		return ceBinding{}, nil // another provider: App ID's credentials do not apply
	}
	var explicit []string
	for _, name := range bindingVars {
		if get(name) != "" {
			explicit = append(explicit, name)
		}
	}
	if len(explicit) == len(bindingVars) {
		return ceBinding{}, nil
	}
	problem := func(format string, args ...any) []appid.Problem {
		return []appid.Problem{{Setting: ceServicesVar, Reason: fmt.Sprintf(format, args...)}}
	}

	var services map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &services); err != nil {
		return ceBinding{}, problem("expected Code Engine's JSON object of service bindings: %s", jsonError(err))
	}
	list, ok := services["appid"]
	if !ok || string(list) == "null" {
		return ceBinding{}, nil
	}
	var entries []ceServiceEntry
	if err := json.Unmarshal(list, &entries); err != nil {
		return ceBinding{}, problem("appid: expected a list of bindings with name and credentials: %s", jsonError(err))
	}
	names := make([]string, len(entries))
	for i := range entries {
		if entries[i].Name == "" {
			entries[i].Name = fmt.Sprintf("appid[%d]", i) // unnamed: its place in CE_SERVICES names it
		}
		names[i] = fmt.Sprintf("%q", entries[i].Name)
	}
	switch len(entries) {
	case 0:
		return ceBinding{}, nil
	case 1:
	default:
		return ceBinding{}, problem("%d App ID bindings (%s): unbind all but one (ibmcloud ce application unbind), "+
			"or set APPID_CLIENT_ID, APPID_CLIENT_SECRET and APPID_OAUTH_SERVER_URL", len(entries), strings.Join(names, ", "))
	}
	e := entries[0]
	if len(explicit) > 0 {
		verb := "is"
		if len(explicit) > 1 {
			verb = "are"
		}
		return ceBinding{}, problem("App ID binding %s not used since %s %s set: set all of %s, or none of them "+
			"to use the binding", names[0], strings.Join(explicit, " and "), verb, strings.Join(bindingVars, ", "))
	}
	var c ceAppIDCredentials
	if e.Credentials != nil {
		c = *e.Credentials
	}
	b := ceBinding{ServiceBinding: ServiceBinding{Name: e.Name}, values: map[string]string{}}
	var missing []string
	// field names the required credentials, for the problem when one is missing; the optional ones stand in only
	// for a variable left unset.
	for _, s := range []struct{ name, field, value string }{
		{"APPID_CLIENT_ID", "clientId", c.ClientID},
		{"APPID_CLIENT_SECRET", "secret", c.Secret},
		{"APPID_OAUTH_SERVER_URL", "oauthServerUrl", c.OAuthServerURL},
		{"APPIDGATE_MANAGEMENT_URL", "", c.ManagementURL},
		{"IBM_CLOUD_APIKEY", "", c.APIKey},
	} {
		v := strings.TrimSpace(s.value)
		switch {
		case v == "" && s.field != "":
			missing = append(missing, "credentials."+s.field)
		case v == "" || (s.field == "" && get(s.name) != ""):
			// optional and absent, or set explicitly
		default:
			b.Settings = append(b.Settings, s.name)
			b.values[s.name] = v
		}
	}
	if len(missing) > 0 {
		return ceBinding{}, problem("App ID binding %s lacks %s", names[0], strings.Join(missing, ", "))
	}
	return b, nil
}

// jsonError describes a decoding error by its position and kind, never quoting the input (it holds secrets).
func jsonError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%s is a JSON %s", typ.Field, typ.Value)
		}
		return fmt.Sprintf("found a JSON %s", typ.Value)
	}
	return "invalid JSON"
}

// lookup returns lookup with the settings the binding supplies filled in, so that appid.ConfigFromLookup reads
// them as if they were set. An API key from the binding gives way to a trusted profile
// (APPIDGATE_IAM_PROFILE_ID or APPIDGATE_IAM_PROFILE_NAME): it stays unset, as an explicit key would be refused
// next to a profile.
func (b ceBinding) lookup(r *settings.Reader, lookup func(string) (string, bool)) func(string) (string, bool) {
	if len(b.Settings) == 0 {
		return lookup
	}
	profile := r.String("APPIDGATE_IAM_PROFILE_ID") != "" || r.String("APPIDGATE_IAM_PROFILE_NAME") != ""
	return func(name string) (string, bool) {
		if v, ok := b.values[name]; ok && !(profile && name == "IBM_CLOUD_APIKEY") {
			return v, true
		}
		return lookup(name)
	}
}
