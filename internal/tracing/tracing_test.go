package tracing_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/appidgate/appidgate/internal/tracing"
)

func TestReadSettings(t *testing.T) {
	for _, tc := range []struct {
		name        string
		vars        map[string]string
		wantExport  bool
		wantProblem string
	}{
		{name: "nothing set", vars: nil},
		{name: "an endpoint", vars: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, wantExport: true},
		{name: "a traces endpoint", vars: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, wantExport: true},
		{name: "otlp exporter, default endpoint", vars: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, wantExport: true},
		{name: "exporter none wins over an endpoint", vars: map[string]string{"OTEL_TRACES_EXPORTER": "none",
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}},
		{name: "SDK disabled", vars: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}},
		{name: "SDK disabled false", vars: map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"},
			wantExport: true},
		{name: "an exporter appidgate lacks", vars: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"},
			wantProblem: `OTEL_TRACES_EXPORTER: appidgate exports traces with otlp (or none), got "zipkin"`},
		{name: "grpc", vars: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			wantExport: true, wantProblem: `OTEL_EXPORTER_OTLP_PROTOCOL: appidgate sends traces with http/protobuf, got "grpc"`},
		{name: "grpc for traces only", vars: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
			wantExport: true, wantProblem: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{name: "grpc without traces is no problem", vars: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, problems := tracing.ReadSettings(func(k string) string { return tc.vars[k] })
			if s.Export != tc.wantExport {
				t.Errorf("Export = %v, want %v", s.Export, tc.wantExport)
			}
			got := strings.Join(problems, "\n")
			if (tc.wantProblem == "") != (got == "") || !strings.Contains(got, tc.wantProblem) {
				t.Errorf("problems %q, want one with %q", got, tc.wantProblem)
			}
		})
	}
}

func recorder(t *testing.T) (*tracetest.InMemoryExporter, trace.TracerProvider) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return exp, tp
}

// TestServerSpanNamedByRoute: the request's span is named by the route the mux matched, never by the raw path,
// and records neither the query string nor any header.
func TestServerSpanNamedByRoute(t *testing.T) {
	exp, tp := recorder(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	h := tracing.Handler(tp, nil, tracing.Route(mux))
	for _, target := range []string{"/users/42?token=SECRET-q", "/nowhere?token=SECRET-q"} {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Authorization", "Bearer SECRET-h")
		req.Header.Set("Cookie", "s=SECRET-c")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	spans := exp.GetSpans()
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
		for _, kv := range s.Attributes {
			if strings.Contains(kv.Value.Emit(), "SECRET") {
				t.Errorf("span %s records %s=%s", s.Name, kv.Key, kv.Value.Emit())
			}
		}
	}
	if want := []string{"GET /users/{id}", "GET"}; !slices.Equal(names, want) {
		t.Errorf("span names %q, want %q", names, want)
	}
}

// TestTransportReplacesTraceContext: an outbound call is a client span, child of the caller's span, and carries
// that span's trace context instead of whatever trace context the request had.
func TestTransportReplacesTraceContext(t *testing.T) {
	exp, tp := recorder(t)
	var got http.Header
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer peer.Close()
	client := &http.Client{Transport: tracing.Transport(tp, nil, func(r *http.Request) string { return r.Method + " peer" })}
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, peer.URL+"/x?secret=SECRET", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	req.Header.Set("Tracestate", "client=chosen")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()
	call := exp.GetSpans()[0]
	if call.Name != "GET peer" || call.SpanKind != trace.SpanKindClient || call.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("span %q kind %v parent %s, want GET peer, client, child of %s", call.Name, call.SpanKind,
			call.Parent.SpanID(), parent.SpanContext().SpanID())
	}
	want := "00-" + call.SpanContext.TraceID().String() + "-" + call.SpanContext.SpanID().String() + "-01"
	if tp := got.Get("Traceparent"); tp != want {
		t.Errorf("the peer received traceparent %q, want %q", tp, want)
	}
	if ts := got.Values("Tracestate"); len(ts) != 0 {
		t.Errorf("the peer received the client's tracestate %q", ts)
	}
	if req.Header.Get("Traceparent") != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Error("the transport changed the caller's request")
	}
	for _, kv := range call.Attributes {
		if strings.Contains(kv.Value.Emit(), "SECRET") || strings.Contains(kv.Value.Emit(), "/x") {
			t.Errorf("the client span records %s=%s", kv.Key, kv.Value.Emit())
		}
	}
}

// TestRedisHook: each command is a span named by the command, child of the caller's, and never records the
// arguments (session ids, sealed sessions); a failed command marks its span failed, a missing key does not.
func TestRedisHook(t *testing.T) {
	exp, tp := recorder(t)
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { client.Close() })
	client.AddHook(tracing.RedisHook(tp))
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	if err := client.Set(ctx, "session:SECRET-id", "SECRET-value", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := client.Get(ctx, "session:missing").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET of a missing key: %v", err)
	}
	if err := client.Incr(ctx, "session:SECRET-id").Err(); err == nil {
		t.Fatal("INCR of a string succeeded")
	}
	pipe := client.TxPipeline()
	pipe.Del(ctx, "session:SECRET-id")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	parent.End()
	var names []string
	for _, s := range exp.GetSpans() {
		if s.Name == "request" || s.Parent.SpanID() != parent.SpanContext().SpanID() {
			if s.Status.Code == codes.Error {
				t.Errorf("%s, part of a new connection's handshake, is marked failed", s.Name)
			}
			continue
		}
		names = append(names, s.Name)
		if s.Parent.SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("%s is not a child of the caller's span", s.Name)
		}
		if failed := s.Status.Code == codes.Error; failed != (s.Name == "redis INCR") {
			t.Errorf("%s: status %v %q", s.Name, s.Status.Code, s.Status.Description)
		}
		for _, kv := range s.Attributes {
			if strings.Contains(kv.Value.Emit(), "SECRET") {
				t.Errorf("%s records %s=%s", s.Name, kv.Key, kv.Value.Emit())
			}
		}
	}
	if want := []string{"redis SET", "redis GET", "redis INCR", "redis pipeline"}; !slices.Equal(names, want) {
		t.Errorf("spans %q, want %q", names, want)
	}
}
