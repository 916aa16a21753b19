package appid

import (
	"context"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names the tracer of the library's spans.
const tracerName = "github.com/appidgate/appidgate/appid"

// The library's spans, one per step that waits on the provider: children of the request's span, parents of
// the HTTP client spans of the calls they make. No span records a token, code, secret or claim.
const (
	spanTokenExchange = "appid.token_exchange" // the callback redeems the code
	spanVerifyTokens  = "appid.verify_tokens"  // the tokens of a login or refresh are verified (keys fetched)
	spanRoles         = "appid.roles"          // the management API's roles, with an IAM token
	spanRefresh       = "appid.refresh"        // a refresh token is redeemed and the new tokens verified
	spanIntrospect    = "appid.introspect"     // RFC 7662 introspection
)

// startSpan starts the span of one of the library's steps with tracer, a child of the span in ctx.
func startSpan(ctx context.Context, tracer trace.Tracer, name string) (context.Context, trace.Span) {
	return tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal))
}

// endSpan ends span, marked as failed when err is not nil. The error's text is left out: it may quote a
// provider's answer.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, "failed")
	}
	span.End()
}
