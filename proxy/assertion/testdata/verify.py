# Verify appidgate's identity assertion in a Python upstream (PyJWT 2.x with the cryptography package:
# pip install "pyjwt[crypto]", or Debian's python3-jwt and python3-cryptography).
import jwt

PROXY = "https://myapp.example.codeengine.appdomain.cloud"  # the proxy's public origin: iss
AUDIENCE = "http://myapp-backend.svc.cluster.local"  # the upstream's audience: aud
jwks = jwt.PyJWKClient(PROXY + "/.well-known/appidgate/jwks.json")  # caches the keys


def verify(token, method, path):
    """Return the claims of a valid assertion for this request; raise jwt.PyJWTError otherwise."""
    key = jwks.get_signing_key_from_jwt(token).key
    claims = jwt.decode(token, key, algorithms=["ES256"], audience=AUDIENCE, issuer=PROXY, leeway=10,
                        options={"require": ["iss", "aud", "sub", "iat", "exp", "htm", "htu"]})
    if claims["htm"] != method or claims["htu"] != path:
        raise jwt.InvalidTokenError("assertion made for another request")
    return claims

# In Flask, before each request:
#     try:
#         g.user = verify(request.headers.get("X-Appidgate-Assertion", ""), request.method, request.path)
#     except jwt.PyJWTError:
#         abort(401)
