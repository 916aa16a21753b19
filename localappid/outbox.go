package localappid

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxOutbox is how many emails the outbox keeps; older ones are dropped first.
const maxOutbox = 200

// Email is a message App ID would have sent (a Cloud Directory verification, password reset, welcome or
// password-changed notice). localappid sends none: they wait in the outbox, served as JSON at /localappid/outbox
// and returned by Provider.Outbox, so that tests and developers can follow their links offline.
type Email struct {
	ID       string    `json:"id"`
	To       string    `json:"to"`
	Template string    `json:"template"` // App ID's template name: USER_VERIFICATION, RESET_PASSWORD, WELCOME, PASSWORD_CHANGED
	Subject  string    `json:"subject"`
	Body     string    `json:"body"`
	Links    []string  `json:"links"` // the links in Body, in order
	SentAt   time.Time `json:"sent_at"`
	// UserID is the Cloud Directory user the email is about.
	UserID string `json:"user_id"`
}

// Outbox returns the emails the provider would have sent, oldest first, at most the last 200.
func (p *Provider) Outbox() []Email {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := slices.Clone(p.outbox)
	for i := range out {
		out[i].Links = slices.Clone(out[i].Links)
	}
	return out
}

// sendLocked puts an email in the outbox. p.mu must be held.
func (p *Provider) sendLocked(to, userID, template, subject, body string, links ...string) {
	p.outboxSeq++
	e := Email{ID: strconv.Itoa(p.outboxSeq), To: to, UserID: userID, Template: template, Subject: subject,
		Body: body, Links: links, SentAt: p.cfg.Now()}
	if len(p.outbox) >= maxOutbox {
		p.outbox = slices.Delete(p.outbox, 0, len(p.outbox)-maxOutbox+1)
	}
	p.outbox = append(p.outbox, e)
}

// handleOutbox is GET /localappid/outbox: the outbox as a JSON array, oldest first; ?to= keeps the emails to one
// address (case-insensitive) and ?template= those of one template. Its links hold password-reset and verification
// secrets, so it answers only a loopback peer or a request with a valid IAM access token (as the management API
// requires); anyone else gets 403.
func (p *Provider) handleOutbox(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !loopbackPeer(r) {
		if code, _ := p.checkIAM(r); code != "" {
			writeManagementError(w, http.StatusForbidden, "FORBIDDEN",
				"the outbox answers only requests from this machine (loopback) or with a valid IAM access token")
			return
		}
	}
	to, template := r.URL.Query().Get("to"), r.URL.Query().Get("template")
	out := []Email{}
	for _, e := range p.Outbox() {
		if (to == "" || strings.EqualFold(e.To, to)) && (template == "" || e.Template == template) {
			out = append(out, e)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// loopbackPeer reports whether the request's TCP peer is a loopback address (127.0.0.0/8 or ::1). It trusts no
// forwarding header: behind a proxy on the same machine every request looks local.
func loopbackPeer(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}
