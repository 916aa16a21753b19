package localappid

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// OpenID Connect Back-Channel Logout 1.0, the provider's side: when a login session ends at the provider (the
// SSO logout) or an operator ends a user's sessions, each client that registered a back-channel logout URI and
// that the user signed in to gets a signed logout token, POSTed in the background.

const (
	// logoutTokenTTL is how long a logout token is valid: the specification recommends two minutes at most.
	logoutTokenTTL = 2 * time.Minute
	// backchannelInFlight is how many calls run at once; the others wait their turn.
	backchannelInFlight = 8
	// maxPendingLogouts bounds the calls running or waiting; past it a call is dropped (and logged), so that
	// slow or unreachable clients cannot pile up goroutines.
	maxPendingLogouts = 1000
	// maxBackchannelAnswer bounds what is read of a client's answer (only to reuse the connection).
	maxBackchannelAnswer = 4 << 10
	// backchannelLogoutEvent is the events member that makes a JWT a logout token.
	backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"
)

// logoutClaims are a logout token's claims (Back-Channel Logout 1.0 §2.4); it never has a nonce.
type logoutClaims struct {
	Issuer    string              `json:"iss"`
	Subject   string              `json:"sub,omitempty"`
	Audience  string              `json:"aud"`
	IssuedAt  int64               `json:"iat"`
	Expiry    int64               `json:"exp"`
	ID        string              `json:"jti"`
	Events    map[string]struct{} `json:"events"`
	SessionID string              `json:"sid,omitempty"`
}

// sessionIDFor is the sid claim of client's id tokens for the login session sid: none for a client without a
// back-channel logout URI, as App ID's id tokens carry none.
func sessionIDFor(client *Client, sid string) string {
	if client.BackchannelLogoutURI == "" {
		return ""
	}
	return sid
}

// signLogoutToken signs a logout token for client audience with the current key (typ logout+jwt), naming the
// user sub and, when not empty, the login session sid.
func (p *Provider) signLogoutToken(issuer, audience, sub, sid string) (string, error) {
	now := p.cfg.Now()
	tok, err := jwt.Signed(p.keys.current().logoutSigner).Claims(logoutClaims{
		Issuer: issuer, Subject: sub, Audience: audience, IssuedAt: now.Unix(), Expiry: now.Add(logoutTokenTTL).Unix(),
		ID: randomToken(), Events: map[string]struct{}{backchannelLogoutEvent: {}}, SessionID: sid,
	}).Serialize()
	if err != nil {
		return "", fmt.Errorf("localappid: signing a logout token: %w", err)
	}
	return tok, nil
}

// backchannelEnabled reports whether any client registered a back-channel logout URI.
func (p *Provider) backchannelEnabled() bool {
	for _, c := range p.clients {
		if c.BackchannelLogoutURI != "" {
			return true
		}
	}
	return false
}

// logoutLoginSession tells the clients signed in through s, a login session just ended by the SSO logout, that
// it ended, after revoking the refresh tokens it gave them. It does not wait for their answers.
func (p *Provider) logoutLoginSession(issuer string, s *loginSession) {
	p.mu.Lock()
	for token, g := range p.refresh.entries {
		if c := p.clients[g.clientID]; g.sid == s.sid && g.sid != "" && c != nil && c.BackchannelLogoutURI != "" {
			p.refresh.delete(token)
		}
	}
	p.mu.Unlock()
	p.notifyLogout(issuer, s.clients, s.userID, s.sid)
}

// EndUserSessions ends every session of user userID, as an operator would on a compromised or disabled account:
// it ends the user's login sessions at the provider, revokes all the user's refresh tokens, and sends a logout
// token naming the user (sub, no sid: every session of the user) to each client with a back-channel logout URI
// that the user signed in to. It waits until those clients answered, or ctx ended; the error names every client
// that did not answer 200 (the sessions at the provider have ended regardless). The logout tokens' issuer is
// OAuthServerURL, so Config.BaseURL must be set (Listen sets it).
func (p *Provider) EndUserSessions(ctx context.Context, userID string) error {
	if p.cfg.BaseURL == "" {
		return errors.New("localappid: EndUserSessions needs Config.BaseURL, the logout tokens' issuer")
	}
	done, err := p.endUserSessions(p.OAuthServerURL(), userID)
	if err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("localappid: waiting for the back-channel logout of user %s: %w", userID, ctx.Err())
	}
}

// errUnknownUser refuses to end the sessions of a user the provider does not have.
var errUnknownUser = errors.New("localappid: no user with this id")

// endUserSessions does the work of EndUserSessions and returns the channel on which the clients' failures arrive.
func (p *Provider) endUserSessions(issuer, userID string) (<-chan error, error) {
	if p.userByID(userID) == nil {
		return nil, fmt.Errorf("%w: %q", errUnknownUser, userID)
	}
	clients := map[string]bool{}
	p.mu.Lock()
	for id, s := range p.sessions.entries {
		if s.userID == userID {
			for c := range s.clients {
				clients[c] = true
			}
			p.sessions.delete(id)
		}
	}
	for token, g := range p.refresh.entries {
		if g.userID == userID {
			clients[g.clientID] = true
			p.refresh.delete(token)
		}
	}
	p.mu.Unlock()
	return p.notifyLogout(issuer, clients, userID, ""), nil
}

// handleRevokeUserSessions is POST /management/v4/{tenant}/users/{id}/revoke_refresh_token, App ID's call that
// revokes a user's refresh tokens; here it does all that EndUserSessions does and answers 204 at once, the
// back-channel calls going on in the background (their failures are logged).
func (p *Provider) handleRevokeUserSessions(w http.ResponseWriter, r *http.Request) {
	if _, err := p.endUserSessions(p.issuer(r), r.PathValue("id")); err != nil {
		writeManagementError(w, http.StatusNotFound, "NOT_FOUND", "no user with this id")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// notifyLogout sends a logout token for user sub (and login session sid, when not empty) to each of clients that
// has a back-channel logout URI, in the background; the returned channel receives their failures joined (nil
// when all answered 200) once every call is done.
func (p *Provider) notifyLogout(issuer string, clients map[string]bool, sub, sid string) <-chan error {
	var deliveries []logoutDelivery
	for _, id := range slices.Sorted(maps.Keys(clients)) {
		c := p.clients[id]
		if c == nil || c.BackchannelLogoutURI == "" {
			continue
		}
		tok, err := p.signLogoutToken(issuer, c.ID, sub, sid)
		if err != nil {
			p.cfg.Logger.Error("localappid: back-channel logout: no logout token", "client_id", c.ID, "error", err)
			continue
		}
		deliveries = append(deliveries, logoutDelivery{clientID: c.ID, uri: c.BackchannelLogoutURI, token: tok})
	}
	return p.notifier.send(deliveries)
}

// logoutDelivery is one logout token for one client.
type logoutDelivery struct {
	clientID, uri, token string
}

// notifier makes the back-channel calls in the background: each bounded by its timeout, at most
// backchannelInFlight at once and maxPendingLogouts running or waiting, never following redirects. Failures are
// logged; there are no retries.
type notifier struct {
	timeout time.Duration // Config.BackchannelLogoutTimeout
	client  *http.Client
	log     *slog.Logger
	slots   chan struct{} // a call holds a slot while it runs
	pending atomic.Int64  // calls running or waiting for a slot
	running sync.WaitGroup
}

func newNotifier(timeout time.Duration, log *slog.Logger) *notifier {
	return &notifier{
		timeout: timeout,
		client: &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a logout token goes to the registered URI only
		}},
		log:   log,
		slots: make(chan struct{}, backchannelInFlight),
	}
}

// send starts the deliveries and returns a channel that receives their failures joined, once all are done.
func (n *notifier) send(deliveries []logoutDelivery) <-chan error {
	result := make(chan error, 1)
	errs := make([]error, len(deliveries))
	var batch sync.WaitGroup
	for i, d := range deliveries {
		if n.pending.Add(1) > maxPendingLogouts {
			n.pending.Add(-1)
			errs[i] = fmt.Errorf("localappid: back-channel logout to client %s dropped: %d calls pending", d.clientID,
				maxPendingLogouts)
			n.log.Warn("localappid: back-channel logout dropped: too many calls pending", "client_id", d.clientID)
			continue
		}
		batch.Add(1)
		n.running.Go(func() {
			defer batch.Done()
			defer n.pending.Add(-1)
			n.slots <- struct{}{}
			defer func() { <-n.slots }()
			if errs[i] = n.deliver(d); errs[i] != nil {
				n.log.Warn("localappid: back-channel logout failed", "client_id", d.clientID, "error", errs[i])
			}
		})
	}
	n.running.Go(func() {
		batch.Wait()
		result <- errors.Join(errs...)
	})
	return result
}

// deliver POSTs one logout token (form field logout_token) and expects 200 (or 204, which some frameworks send
// for an empty 200).
func (n *notifier) deliver(d logoutDelivery) error {
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	form := url.Values{"logout_token": {d.token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.uri, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("localappid: back-channel logout to client %s: %w", d.clientID, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := n.client.Do(req)
	if err != nil {
		return fmt.Errorf("localappid: back-channel logout to client %s: %w", d.clientID, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxBackchannelAnswer))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("localappid: back-channel logout to client %s: %s answered %d, expected 200", d.clientID,
			d.uri, resp.StatusCode)
	}
	return nil
}

// wait blocks until every call has ended or ctx has.
func (n *notifier) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		n.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("localappid: back-channel logout calls still running: %w", ctx.Err())
	}
}
