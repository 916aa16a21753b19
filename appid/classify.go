package appid

import (
	"net/http"
	"strings"
)

// wantsRedirect reports whether r is a browser navigation, which may be redirected to the login page. API and
// script requests (a JSON Accept without text/html, an Authorization header, a Sec-Fetch-Mode other than
// navigate, X-Requested-With) get a 401 instead: a redirect to a login page means nothing to them.
func wantsRedirect(r *http.Request) bool {
	h := r.Header
	if h.Get("Authorization") != "" || h.Get("X-Requested-With") != "" {
		return false
	}
	if mode := h.Get("Sec-Fetch-Mode"); mode != "" && mode != "navigate" {
		return false
	}
	accept := h.Get("Accept")
	if strings.Contains(accept, "json") && !strings.Contains(accept, "text/html") {
		return false
	}
	return true
}
