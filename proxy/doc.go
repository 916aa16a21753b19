// Package proxy puts appid's login and policies in front of an upstream HTTP app written in any language, as a
// reverse proxy or as a forward-auth endpoint for nginx, Traefik and Caddy.
package proxy
