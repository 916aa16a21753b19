package logging_test

import (
	"bytes"
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/appidgate/appidgate/internal/logging"
)

// TestLinesNameTheirTrace: a line logged within a recording span carries its trace_id and span_id; without one,
// or with a span that is not recording (traces off), it carries neither.
func TestLinesNameTheirTrace(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	recording, span := tp.Tracer("test").Start(context.Background(), "request")
	defer span.End()
	notRecording, _ := noop.NewTracerProvider().Tracer("test").Start(
		trace.ContextWithRemoteSpanContext(context.Background(), span.SpanContext()), "request")
	for _, tc := range []struct {
		name      string
		ctx       context.Context
		wantTrace string
		wantSpan  string
	}{
		{"recording span", recording, span.SpanContext().TraceID().String(), span.SpanContext().SpanID().String()},
		{"no span", context.Background(), "", ""},
		{"span not recording", notRecording, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := logging.New(&buf, "json", "info")
			if err != nil {
				t.Fatal(err)
			}
			log.InfoContext(tc.ctx, "something happened")
			l := lines(t, buf.String())[0]
			if got, _ := l["trace_id"].(string); got != tc.wantTrace {
				t.Errorf("trace_id = %q, want %q", got, tc.wantTrace)
			}
			if got, _ := l["span_id"].(string); got != tc.wantSpan {
				t.Errorf("span_id = %q, want %q", got, tc.wantSpan)
			}
		})
	}
}
