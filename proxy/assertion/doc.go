// Package assertion verifies the signed identity assertion that appidgate's proxy sends to its upstream, so
// that an upstream other workloads can reach accepts only requests the proxy let through.
//
// Identity headers such as X-Appidgate-User prove nothing to an upstream that another workload, or a client that
// bypasses the proxy, can reach directly: anyone can send them. The assertion can only come from the proxy.
//
// # Claims
//
// On every request for a signed-in user the proxy adds the header X-Appidgate-Assertion: a JWT signed with
// ES256 whose claims are
//
//	iss     the proxy's public origin, e.g. "https://myapp.example.codeengine.appdomain.cloud"
//	aud     the upstream's audience (by default its origin, e.g. "http://myapp-backend.svc.cluster.local")
//	sub     the user's subject id; email, name, roles and scopes when present (roles and scopes are arrays)
//	iat     when it was signed; exp 60 seconds later by default
//	jti     a random id for logs. The proxy reuses an assertion for the same user and request line for up to
//	        half its lifetime, so a repeated jti is not a replay: do not refuse it
//	htm     the request method, e.g. "GET"
//	htu     the request path as the upstream receives it, decoded and without the query ("/orders/7"); not
//	        a full URL, unlike DPoP's claim of the same name
//
// htm and htu bind the assertion to one route: a captured assertion cannot be used on another method or path,
// and expires within a minute. The query is not bound.
//
// # Verifying in Go
//
// The proxy serves its public keys as a JWK set at [JWKSPath] on its own origin. A Go upstream verifies with
//
//	v, err := assertion.NewVerifier(assertion.Config{
//		JWKSURL:  "https://myapp.example.codeengine.appdomain.cloud" + assertion.JWKSPath,
//		Issuer:   "https://myapp.example.codeengine.appdomain.cloud",
//		Audience: "http://myapp-backend.svc.cluster.local",
//	})
//	...
//	http.ListenAndServe(":8000", v.Middleware(mux)) // 401 without a valid assertion
//
// and reads the user with [IdentityFrom](r.Context()). Wrap the whole handler, outside any http.StripPrefix:
// the path checked against htu is the one the request arrived with. [Verifier.Verify] checks one request and
// says why it refused it; [Config.Keys] takes the public keys directly instead of fetching them.
//
// # Verifying in Python
//
// A Python upstream needs PyJWT with the cryptography package; testdata/verify.py in this package holds the
// lines to copy, tested against this package's signer:
// https://github.com/appidgate/appidgate/blob/main/proxy/assertion/testdata/verify.py
package assertion
