package appid

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// errIntrospectionUnavailable marks an introspection endpoint that gave no answer.
var errIntrospectionUnavailable = fmt.Errorf("%w: introspection", errProviderUnavailable)

// introspector asks the provider's introspection endpoint (RFC 7662), authenticated as the client, about access
// tokens: whether a session's is still active, and whose a bearer token is.
type introspector struct {
	discovery *discovery
	client    *client
	tracer    trace.Tracer
	log       *slog.Logger
	// issuer, clientID, clockSkew and rolesClaim are Config's, to judge an answer and read its roles.
	issuer, clientID, rolesClaim string
	clockSkew                    time.Duration
}

// newIntrospector returns the introspector of a, whose discovery, tracer and logger are set, asking as c.
func newIntrospector(a *Auth, c *client) *introspector {
	return &introspector{discovery: a.discovery, client: c, tracer: a.tracer, log: a.log,
		issuer: a.cfg.OAuthServerURL, clientID: a.cfg.ClientID, rolesClaim: a.cfg.RolesClaim, clockSkew: a.cfg.ClockSkew}
}

// sessionActive asks the provider whether st's access token is still active, as the reference app does on every
// request. Sessions ask only when Config.Introspect is set. Any failure counts as inactive.
func (i *introspector) sessionActive(ctx context.Context, st *sessionState) bool {
	ctx, cancel := context.WithTimeout(ctx, providerCallTimeout)
	defer cancel()
	meta, err := i.discovery.metadata(ctx)
	if err != nil || meta.IntrospectionEndpoint == "" {
		return false
	}
	answer, err := i.introspect(ctx, meta, st.accessToken)
	if err != nil {
		i.log.WarnContext(ctx, "appid: introspection failed", "error", err)
		return false
	}
	active, _ := answer["active"].(bool)
	return active
}

// introspect posts token to the provider's introspection endpoint, authenticated as the client, and returns the
// answer's members. Failing to get an answer is errProviderUnavailable.
func (i *introspector) introspect(ctx context.Context, meta *providerMetadata, token string) (_ map[string]any, err error) {
	ctx, span := startSpan(ctx, i.tracer, spanIntrospect)
	defer func() { endSpan(span, err) }()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	resp, err := i.client.postForm(ctx, meta.IntrospectionEndpoint, meta.IntrospectionAuthMethods, form)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errIntrospectionUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderResponse))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the answer: %v", errIntrospectionUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: POST %s: expected status 200, got %d", errIntrospectionUnavailable,
			meta.IntrospectionEndpoint, resp.StatusCode)
	}
	var answer map[string]any
	if err := json.Unmarshal(body, &answer); err != nil || answer == nil {
		return nil, fmt.Errorf("%w: %s answered no JSON object", errIntrospectionUnavailable,
			meta.IntrospectionEndpoint)
	}
	return answer, nil
}

// user checks an introspection answer (see bearerVerifier.introspect) and returns its user.
func (i *introspector) user(answer map[string]any, now time.Time) (*User, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: bearer token: introspection: "+format, append([]any{errTokenInvalid}, args...)...)
	}
	if active, _ := answer["active"].(bool); !active {
		return nil, invalid("not active")
	}
	sub, _ := answer["sub"].(string)
	if sub == "" {
		return nil, invalid("the answer names no sub")
	}
	if iss, ok := answer["iss"]; ok && iss != i.issuer {
		return nil, invalid("issued by %v, expected %q", iss, i.issuer)
	}
	// A refresh token is active too at some providers: only access tokens are bearer tokens.
	if tt, _ := answer["token_type"].(string); tt != "" && !strings.EqualFold(tt, "bearer") &&
		tt != "access_token" && tt != "urn:ietf:params:oauth:token-type:access_token" {
		return nil, invalid("token_type %q is not an access token", tt)
	}
	if typ, _ := answer["typ"].(string); typ != "" && !strings.EqualFold(typ, "bearer") { // Keycloak's token kind
		return nil, invalid("typ %q is not an access token", typ)
	}
	if use, _ := answer["token_use"].(string); use == "refresh_token" || use == "id" { // ORY Hydra's, Cognito's kinds
		return nil, invalid("token_use %q is not an access token", use)
	}
	var expiry time.Time
	if exp, ok := answer["exp"].(float64); ok {
		expiry = time.Unix(int64(exp), 0)
		if !expiry.After(now.Add(-i.clockSkew)) {
			return nil, invalid("expired at %s", expiry.UTC().Format(time.RFC3339))
		}
	}
	clientID, _ := answer["client_id"].(string)
	if !slices.Contains(claimStrings(answer["aud"], false), i.clientID) && clientID != i.clientID {
		return nil, invalid("issued to client %q for audience %v, expected this client %q", clientID, answer["aud"],
			i.clientID)
	}
	email := verifiedEmail(answer)
	scope, _ := answer["scope"].(string)
	return &User{
		ID:        sub,
		Email:     email,
		Name:      displayName(answer),
		Roles:     slices.Clip(rolesAt(answer, i.rolesClaim)),
		Scopes:    slices.Clip(scopesOf(scope)),
		ExpiresAt: expiry,
		Claims:    answer,
	}, nil
}
