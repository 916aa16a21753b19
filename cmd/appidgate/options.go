package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/appidgate/appidgate/internal/logging"
	"github.com/appidgate/appidgate/internal/server"
)

// serveOptions are the process-level settings shared by the serving commands, read from the environment.
type serveOptions struct {
	port         string // PORT, injected by Code Engine; 5000 as in the reference when unset
	addr         string // APPIDGATE_LISTEN_ADDR, overriding host and port
	logger       *slog.Logger
	drain        time.Duration // APPIDGATE_SHUTDOWN_TIMEOUT
	metricsAddr  string        // APPIDGATE_METRICS_ADDR: serve /metrics there instead of on the main listener
	requireAppID bool          // APPIDGATE_REQUIRE_APPID: never fall back to the local provider
	localIdP     bool          // APPIDGATE_LOCAL_IDP: run the local provider even where App ID is required
	idpAddr      string        // APPIDGATE_IDP_ADDR: where the in-process local provider listens
	idpURL       string        // APPIDGATE_IDP_URL: the local provider's public origin, when not its listen address
}

// readServeOptions reads serveOptions, naming every invalid setting.
func readServeOptions(e env) (serveOptions, []string) {
	var problems []string
	o := serveOptions{
		port:        e.getenv("PORT"),
		addr:        e.getenv("APPIDGATE_LISTEN_ADDR"),
		metricsAddr: e.getenv("APPIDGATE_METRICS_ADDR"),
		idpAddr:     e.getenv("APPIDGATE_IDP_ADDR"),
		idpURL:      e.getenv("APPIDGATE_IDP_URL"),
		drain:       server.DefaultDrain,
	}
	if o.port == "" {
		o.port = "5000"
	} else if n, err := strconv.Atoi(o.port); err != nil || n < 0 || n > 65535 {
		problems = append(problems, fmt.Sprintf("PORT: expected a port number, got %q", o.port))
	}
	if o.addr != "" {
		if _, _, err := net.SplitHostPort(o.addr); err != nil {
			problems = append(problems, fmt.Sprintf("APPIDGATE_LISTEN_ADDR: expected host:port, got %q", o.addr))
		}
	}
	if o.idpURL != "" {
		if u, err := url.Parse(o.idpURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") {
			problems = append(problems, fmt.Sprintf("APPIDGATE_IDP_URL: expected an origin such as http://localhost:5001, got %q", o.idpURL))
		}
		o.idpURL = strings.TrimSuffix(o.idpURL, "/")
	}
	format, level := e.getenv("APPIDGATE_LOG_FORMAT"), e.getenv("APPIDGATE_LOG_LEVEL")
	if format == "" {
		format = "auto"
	}
	if level == "" {
		level = "info"
	}
	log, err := logging.New(e.stderr, format, level)
	if err != nil {
		problems = append(problems, err.Error())
		log = slog.New(slog.DiscardHandler)
	}
	o.logger = log
	if s := e.getenv("APPIDGATE_SHUTDOWN_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Sprintf("APPIDGATE_SHUTDOWN_TIMEOUT: expected a positive duration such as 20s, got %q", s))
		}
		o.drain = d
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"APPIDGATE_REQUIRE_APPID", &o.requireAppID}, {"APPIDGATE_LOCAL_IDP", &o.localIdP}} {
		if s := e.getenv(b.name); s != "" {
			v, err := strconv.ParseBool(s)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: expected true or false (1 or 0), got %q", b.name, s))
			}
			*b.dst = v
		}
	}
	if o.idpAddr == "" {
		o.idpAddr = "127.0.0.1:0"
		if o.localIdP {
			// Asked for explicitly, typically in a container: a fixed port that can be published, on every interface.
			o.idpAddr = ":5001"
		}
	}
	return o, problems
}

// idpPublicURL is the origin browsers use to reach the local provider: APPIDGATE_IDP_URL, else localhost with the
// port of APPIDGATE_IDP_ADDR when that listens on every interface (an unspecified address is no place to send a
// browser), else empty, meaning the provider's listen address.
func (o serveOptions) idpPublicURL() string {
	if o.idpURL != "" {
		return o.idpURL
	}
	host, port, err := net.SplitHostPort(o.idpAddr)
	if err != nil || port == "0" {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "http://localhost:" + port
	}
	return ""
}

// listenAddr is where the app listens: APPIDGATE_LISTEN_ADDR, else defaultHost and PORT.
func (o serveOptions) listenAddr(defaultHost string) string {
	if o.addr != "" {
		return o.addr
	}
	return net.JoinHostPort(defaultHost, o.port)
}
