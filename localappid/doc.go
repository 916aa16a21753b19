// Package localappid is an IBM Cloud App ID-compatible OpenID Connect provider for local runs, demos and tests:
// the same paths, token shapes, discovery document, management API and IAM token endpoint as App ID, with users,
// roles and clients from a config file. It is a demo provider: all state lives in memory and is lost on restart.
//
// It is what `appidgate demo` starts when no provider is configured, what `appidgate idp` serves on its own (for
// apps in other languages and their CI), and what appidgate's own tests log in against. It is not meant for
// production: its users and passwords come from its configuration, and every session, code and token it issued
// is forgotten when it stops.
//
// # Quick start
//
// Start the provider on a free loopback port and point a relying party at it:
//
//	srv, err := localappid.Listen("127.0.0.1:0", localappid.DefaultConfig())
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer srv.Close()
//	p := srv.Provider()
//	cfg := appid.Config{
//		ClientID:       localappid.DemoClientID,
//		ClientSecret:   localappid.DemoClientSecret,
//		OAuthServerURL: p.OAuthServerURL(), // APPID_OAUTH_SERVER_URL
//		IAMTokenURL:    p.IAMTokenURL(),    // IAM_TOKEN_URL
//		IBMCloudAPIKey: localappid.DemoAPIKey,
//		RedirectURL:    "http://localhost:5000/afterauth",
//		SessionKeys:    [][]byte{key},
//	}
//
// [DefaultConfig] is the documented demo: tenant local-tenant, client appidgate-demo (any loopback host and port
// for its redirect URIs), API key local-apikey, and users alice/alice (role user, granting scope view),
// bob/bob (no role) and carol/carol (roles user and admin), with fixed ids ([AliceID], [BobID], [CarolID]).
// [LoadConfig] reads users, roles, clients and lifetimes from a YAML or JSON file instead; the package's
// testdata/example-config.yaml shows every field.
//
// # What it serves
//
// Under [Provider.OAuthServerURL] (/oauth/v4/{tenant}): discovery (/.well-known/openid-configuration), the
// signing keys (/publickeys), a sign-in form (/authorization, also with response_type=sign_up and
// idp=appid_anon), /token with App ID's five grants (authorization_code with PKCE, password, refresh_token with
// rotation, client_credentials, and the custom identity jwt-bearer grant of [Config.CustomIdentity]) reading
// url-encoded, multipart/form-data and JSON bodies, /userinfo, /introspect, /revoke, /activity_logging, App ID's
// SSO logout (/cloud_directory/sso/logout) and the Cloud Directory pages (forgot, reset and change password,
// generate_code and change details, the sign-up confirmation link). Under [Provider.ManagementURL]
// (/management/v4/{tenant}): users' roles and profiles, the roles list and Cloud Directory self-service
// (sign_up, forgot_password, resend, confirmation results, change_password, Users/{id}), for an IAM access
// token. At [Provider.IAMTokenURL] (/identity/token): IAM tokens for the configured API keys. At /api/v1/attributes
// (the profiles endpoint): users' custom attributes. Tokens are RS256 JWTs with App ID's header and claims; the
// discovery document lists what App ID's does, so a relying party cannot depend on what App ID lacks. Emails App
// ID would send wait in an outbox ([Provider.Outbox], and GET /localappid/outbox for a loopback peer or an IAM
// access token, as its links reset passwords). IBM's Node.js SDK runs against it
// unchanged; docs/localappid.md says what is emulated and what is not.
//
// It enforces what App ID enforces: registered redirect URIs, client secrets, PKCE when a challenge was sent,
// one-time authorization codes and refresh-token rotation ([Config.RefreshTokenReuseGrace] lets replicas that
// share no state redeem a token twice within a moment).
//
// # Keys, logout and sessions
//
// [Provider.RotateKey] and [Provider.RetireKey] rotate the signing key, for testing how a relying party
// refetches keys. A client with a [Client.BackchannelLogoutURI] receives OpenID Connect back-channel
// logout tokens when its user logs out at the provider or when [Provider.EndUserSessions] ends all of a user's
// sessions, as an operator would for a compromised account.
//
// # Testing
//
// [Listen] serves a [Provider] on a loopback port and [Server.Close] stops it; [New] builds a Provider to mount
// on a handler of your own, such as an httptest.Server. [Config.Now] replaces the clock and [Config.SigningKey]
// shares one key across tests to save RSA key generation. Package
// [github.com/appidgate/appidgate/localappid/localappidtest] fills the sign-in form as a browser would.
package localappid
