package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/logging"
	"github.com/appidgate/appidgate/internal/server"
	"github.com/appidgate/appidgate/internal/settings"
	"github.com/appidgate/appidgate/internal/tracing"
)

// serveOptions are the process-level settings shared by the serving commands, read from the environment.
type serveOptions struct {
	port         string // PORT, injected by Code Engine; 5000 as in the reference when unset
	addr         string // APPIDGATE_LISTEN_ADDR, overriding host and port
	logger       *slog.Logger
	drain        time.Duration // APPIDGATE_SHUTDOWN_TIMEOUT
	delay        time.Duration // APPIDGATE_SHUTDOWN_DELAY
	metricsAddr  string        // APPIDGATE_METRICS_ADDR: serve /metrics there instead of on the main listener
	requireAppID bool          // APPIDGATE_REQUIRE_APPID: never fall back to the local provider
	localIdP     bool          // APPIDGATE_LOCAL_IDP: run the local provider even where App ID is required
	idpAddr      string        // APPIDGATE_IDP_ADDR: where the in-process local provider listens
	idpURL       string        // APPIDGATE_IDP_URL: the local provider's public origin, when not its listen address
	auditLog     auditLog      // APPIDGATE_AUDIT_LOG: where audit events go
	traces       tracing.Settings
	spans        sdktrace.SpanExporter // env.spans: tests' exporter, in place of the OTEL_* settings
}

// readServeOptions reads serveOptions, naming every invalid setting, and checks the environment for unknown
// settings (see checkEnviron).
func readServeOptions(e env) (serveOptions, []appid.Problem) {
	var problems []appid.Problem
	r := settings.NewReader(e.lookupEnv, collect(&problems))
	o := serveOptions{
		port:        r.Port("PORT"),
		addr:        r.Address("APPIDGATE_LISTEN_ADDR"),
		metricsAddr: r.Address("APPIDGATE_METRICS_ADDR"),
		idpAddr:     r.Address("APPIDGATE_IDP_ADDR"),
		idpURL:      r.String("APPIDGATE_IDP_URL"),
		drain:       server.DefaultDrain,
		delay:       server.DefaultDelay,
	}
	if o.port == "" {
		o.port = "5000"
	}
	if o.idpURL != "" {
		if u, err := url.Parse(o.idpURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") {
			problems = append(problems, appid.Problem{Setting: "APPIDGATE_IDP_URL",
				Reason: fmt.Sprintf("expected an origin such as http://localhost:5001, got %q", o.idpURL)})
		}
		o.idpURL = strings.TrimSuffix(o.idpURL, "/")
	}
	format, level := r.String("APPIDGATE_LOG_FORMAT"), r.String("APPIDGATE_LOG_LEVEL")
	if format == "" {
		format = "auto"
	}
	if level == "" {
		level = "info"
	}
	log, err := logging.New(e.stderr, format, level)
	if err != nil {
		problems = append(problems, appid.Problem{Reason: err.Error()})
		log = slog.New(slog.DiscardHandler)
	}
	o.logger = log
	if d, ok := r.Duration("APPIDGATE_SHUTDOWN_TIMEOUT"); ok {
		if d <= 0 {
			problems = append(problems, appid.Problem{Setting: "APPIDGATE_SHUTDOWN_TIMEOUT",
				Reason: fmt.Sprintf("expected a positive duration such as 20s, got %q", d)})
		}
		o.drain = d
	}
	if d, ok := r.Duration("APPIDGATE_SHUTDOWN_DELAY"); ok {
		if d < 0 {
			problems = append(problems, appid.Problem{Setting: "APPIDGATE_SHUTDOWN_DELAY",
				Reason: fmt.Sprintf("expected a duration of 0 or more such as 3s, got %q", d)})
		}
		o.delay = d
	}
	o.requireAppID, _ = r.Bool("APPIDGATE_REQUIRE_APPID")
	var auditProblem string
	if o.auditLog, auditProblem = readAuditLog(r.String("APPIDGATE_AUDIT_LOG"), e); auditProblem != "" {
		problems = append(problems, appid.Problem{Reason: auditProblem}) // it names APPIDGATE_AUDIT_LOG itself
	}
	o.localIdP, _ = r.Bool("APPIDGATE_LOCAL_IDP")
	if o.idpAddr == "" {
		o.idpAddr = "127.0.0.1:0"
		if o.localIdP {
			// Asked for explicitly, typically in a container: a fixed port that can be published, on every interface.
			o.idpAddr = ":5001"
		}
	}
	var traceProblems []string
	o.traces, traceProblems = tracing.ReadSettings(e.getenv)
	for _, p := range traceProblems {
		problems = append(problems, appid.Problem{Reason: p}) // each names its OTEL_* variable
	}
	o.spans = e.spans
	unknown := checkEnviron(e, r, log) // first: it reports through r into problems
	return o, append(problems, unknown...)
}

// collect returns a settings.Reader report function that adds each problem to problems.
func collect(problems *[]appid.Problem) func(name, reason string) {
	return func(name, reason string) { *problems = append(*problems, appid.Problem{Setting: name, Reason: reason}) }
}

// shutdown is how the servers stop on SIGTERM: APPIDGATE_SHUTDOWN_DELAY, then APPIDGATE_SHUTDOWN_TIMEOUT.
func (o serveOptions) shutdown() server.Shutdown {
	return server.Shutdown{Delay: o.delay, Drain: o.drain}
}

// checkEnviron looks for variables that start like a setting but are none, most likely typos: each is a warning
// on log naming the closest setting, or with APPIDGATE_STRICT_ENV=true a problem, returned.
func checkEnviron(e env, r *settings.Reader, log *slog.Logger) []appid.Problem {
	strict, _ := r.Bool("APPIDGATE_STRICT_ENV")
	if e.environ == nil {
		return nil
	}
	var problems []appid.Problem
	for _, u := range settings.Unknown(e.environ()) {
		if strict {
			problems = append(problems, appid.Problem{Setting: u.Name,
				Reason: u.Reason() + " (an error as APPIDGATE_STRICT_ENV is true)"})
			continue
		}
		log.Warn(u.String())
	}
	return problems
}

// idpEnvProblems checks the environment of appidgate idp, which reads no other setting, for unknown settings.
func idpEnvProblems(e env) []appid.Problem {
	var problems []appid.Problem
	r := settings.NewReader(e.lookupEnv, collect(&problems))
	log, _ := logging.New(e.stderr, "auto", "info") // fixed arguments: never an error
	unknown := checkEnviron(e, r, log)
	return append(problems, unknown...)
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
