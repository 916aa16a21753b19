package settings

import (
	"slices"
	"testing"
)

// TestUnknown: a variable that starts like a setting but is none is reported with the closest setting, when one
// is close; settings and other programs' variables are not.
func TestUnknown(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{"misspelled", []string{"APPIDGATE_SESION_MAX_AGE=2h", "APPIDGATE_LOG_FORMT=text", "APPIDGATE_REDIS_ULR=redis://x"},
			[]string{"unknown setting APPIDGATE_SESION_MAX_AGE, did you mean APPIDGATE_SESSION_MAX_AGE?",
				"unknown setting APPIDGATE_LOG_FORMT, did you mean APPIDGATE_LOG_FORMAT?",
				"unknown setting APPIDGATE_REDIS_ULR, did you mean APPIDGATE_REDIS_URL?"}},
		{"the reference's names misspelled", []string{"SESSION_SECRET_KY=k", "IBM_CLOUD_API_KEY=k", "APPID_CLIENTID=c"},
			[]string{"unknown setting SESSION_SECRET_KY, did you mean SESSION_SECRET_KEY?",
				"unknown setting IBM_CLOUD_API_KEY, did you mean IBM_CLOUD_APIKEY?",
				"unknown setting APPID_CLIENTID, did you mean APPID_CLIENT_ID?"}},
		{"nothing close", []string{"APPIDGATE_COLOUR_SCHEME=dark"}, []string{"unknown setting APPIDGATE_COLOUR_SCHEME"}},
		{"other programs' variables", []string{"PATH=/bin", "HOME=/root", "CE_APP=a", "CE_SERVICES={}",
			"SESSION_MANAGER=x", "IBMCLOUD_API_KEY=k", "PORTS=1", "APPIDGATE=1"}, nil},
		{"OpenTelemetry's variables, listed or not", []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318",
			"OTEL_EXPORTER_OTLP_HEADERS=x=y", "OTEL_SERVICE_NAME=gate", "OTEL_TRACES_SAMPLER=always_on"}, nil},
		{"settings and test-only variables", []string{"APPIDGATE_SESSION_MAX_AGE=2h", "PORT=8080",
			"APPIDGATE_AXE_CORE=/x", "APPIDGATE_SCREENSHOTS_DIR=/y", "APPID_REDIRECT_URI=http://x"}, nil},
		{"a value with =", []string{"APPIDGATE_AUTH_PARAM=a=b"},
			[]string{"unknown setting APPIDGATE_AUTH_PARAM, did you mean APPIDGATE_AUTH_PARAMS?"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, u := range Unknown(tc.environ) {
				got = append(got, u.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Unknown = %q, want %q", got, tc.want)
			}
		})
	}
	var every []string
	for _, s := range All() {
		if s.Name != "" {
			every = append(every, s.Name+"=x")
		}
	}
	if u := Unknown(every); len(u) > 0 {
		t.Errorf("settings of the table reported unknown: %v", u)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"URL", "ULR", 1}, {"FORMT", "FORMAT", 1}, {"abc", "", 3}, {"kitten", "sitting", 3}} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
