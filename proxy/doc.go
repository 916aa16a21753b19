// Package proxy puts appid's login and policies in front of an upstream HTTP app written in any language, as a
// reverse proxy (Proxy) that passes the signed-in user's identity on in headers and a signed assertion.
package proxy
