package tracing

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// RedisHook returns a go-redis hook (for Client.AddHook) that makes each command, and each pipeline, a client
// span named "redis COMMAND" ("redis pipeline"), a child of the span in the command's context. It records the
// command's name only: never its arguments, which hold session ids and sealed sessions. Commands sent outside
// any span make no span; a new connection's handshake appears under the command that opened it.
func RedisHook(tp trace.TracerProvider) redis.Hook {
	return redisHook{tracer: tp.Tracer(ScopeName)}
}

type redisHook struct{ tracer trace.Tracer }

func (redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !trace.SpanContextFromContext(ctx).IsValid() {
			return next(ctx, cmd) // outside any request
		}
		op := strings.ToUpper(cmd.Name())
		ctx, span := h.tracer.Start(ctx, "redis "+op, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system.name", "redis"), attribute.String("db.operation.name", op)))
		defer span.End()
		err := next(ctx, cmd)
		if !handshake(op) {
			failed(span, err)
		}
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !trace.SpanContextFromContext(ctx).IsValid() {
			return next(ctx, cmds)
		}
		names := make([]string, 0, len(cmds))
		for _, c := range cmds {
			names = append(names, strings.ToUpper(c.Name()))
		}
		ctx, span := h.tracer.Start(ctx, "redis pipeline", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system.name", "redis"),
				attribute.String("db.operation.name", "PIPELINE "+strings.Join(names, " ")),
				attribute.Int("db.operation.batch.size", len(cmds))))
		defer span.End()
		err := next(ctx, cmds)
		if !slices.ContainsFunc(names, func(n string) bool { return !handshake(n) }) {
			return err
		}
		failed(span, err)
		return err
	}
}

// handshake reports whether op is one of the commands go-redis sends on a new connection, whose errors it
// ignores (CLIENT SETINFO on a server that lacks it) or reports itself.
func handshake(op string) bool {
	switch op {
	case "HELLO", "CLIENT", "AUTH", "SELECT", "READONLY":
		return true
	}
	return false
}

// failed marks span as failed for a Redis error other than a missing key. The error's text is left out: a
// server error may quote the command's arguments.
func failed(span trace.Span, err error) {
	if err == nil || errors.Is(err, redis.Nil) {
		return
	}
	msg := "redis: the command failed"
	if _, ok := errors.AsType[net.Error](err); ok {
		msg = "redis: network error"
	}
	span.SetStatus(codes.Error, msg)
}
