// Package tracing sets up OpenTelemetry traces from the standard OTEL_* variables and traces appidgate's
// requests, outbound calls and Redis commands without recording a token, cookie, header or query string.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ScopeName names the tracer of appidgate's own spans (server, client and Redis spans).
const ScopeName = "github.com/appidgate/appidgate"

// Provider is the tracer provider of a process: the SDK's when traces are exported, else a no-op one whose
// spans only carry a trusted caller's trace context on.
type Provider struct {
	trace.TracerProvider
	sdk  *sdktrace.TracerProvider // nil when traces are off
	once sync.Once
	err  error
}

// Enabled reports whether p exports spans.
func (p *Provider) Enabled() bool { return p.sdk != nil }

// Shutdown flushes the spans not yet exported and stops the exporter, within ctx. Calls after the first return
// the first one's result.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p.sdk == nil {
		return nil
	}
	p.once.Do(func() { p.err = p.sdk.Shutdown(ctx) })
	return p.err
}

// Off returns a Provider that exports nothing.
func Off() *Provider { return &Provider{TracerProvider: noop.NewTracerProvider()} }

// Settings is what the OTEL_* variables say about traces, as far as appidgate decides on them; the exporter
// and the SDK read the others (endpoint, headers, timeout, sampler, batching, resource) themselves.
type Settings struct {
	// Export is true when spans are to be exported over OTLP/HTTP.
	Export bool
}

// ReadSettings reads the variables that turn traces on through getenv: traces are exported when
// OTEL_TRACES_EXPORTER is otlp, or is unset and OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is set; never when OTEL_SDK_DISABLED is true. It returns one problem per variable it cannot honour.
func ReadSettings(getenv func(string) string) (Settings, []string) {
	// Each is read whatever the others say, so that the settings table's list is what the commands read.
	var (
		disabled       = strings.TrimSpace(getenv("OTEL_SDK_DISABLED"))
		exporters      = strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))
		endpoint       = getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
		tracesEndpoint = getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
		protocol       = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
		tracesProtocol = getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	)
	var problems []string
	export := false
	if exporters == "" {
		export = endpoint != "" || tracesEndpoint != ""
	} else {
		for e := range strings.SplitSeq(exporters, ",") {
			switch strings.ToLower(strings.TrimSpace(e)) {
			case "otlp":
				export = true
			case "none":
			default:
				problems = append(problems, fmt.Sprintf("OTEL_TRACES_EXPORTER: appidgate exports traces with otlp "+
					"(or none), got %q", e))
			}
		}
	}
	if strings.EqualFold(disabled, "true") {
		export = false
	}
	name := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	if tracesProtocol == "" {
		tracesProtocol, name = protocol, "OTEL_EXPORTER_OTLP_PROTOCOL"
	}
	if export && tracesProtocol != "" && tracesProtocol != "http/protobuf" {
		problems = append(problems, fmt.Sprintf("%s: appidgate sends traces with http/protobuf, got %q "+
			"(an OpenTelemetry Collector accepts both on ports 4318 and 4317)", name, tracesProtocol))
	}
	return Settings{Export: export}, problems
}

// New returns the Provider s asks for: with Export, the SDK exporting over OTLP/HTTP in batches, the endpoint,
// headers, sampler and resource taken from the process's OTEL_* variables, and service.name appidgate (unless
// OTEL_SERVICE_NAME says otherwise) with service.version version. It connects to nothing yet.
func New(ctx context.Context, s Settings, version string) (*Provider, error) {
	if !s.Export {
		return Off(), nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: the OTLP exporter: %w", err)
	}
	return WithExporter(exp, version, false)
}

// WithExporter returns a Provider that sends every span to exp: in batches, or one by one as each span ends
// when sync is set (for tests).
func WithExporter(exp sdktrace.SpanExporter, version string, sync bool) (*Provider, error) {
	res, err := resource.Merge(resource.NewSchemaless(
		attribute.String("service.name", "appidgate"),
		attribute.String("service.version", version),
	), resource.Environment()) // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	if err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, fmt.Errorf("tracing: the resource: %w", err)
	}
	send := sdktrace.WithBatcher(exp)
	if sync {
		send = sdktrace.WithSyncer(exp)
	}
	tp := sdktrace.NewTracerProvider(send, sdktrace.WithResource(res))
	return &Provider{TracerProvider: tp, sdk: tp}, nil
}
