package tracing

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// RedisHook returns a go-redis hook (for Client.AddHook) that makes each command, and each pipeline, a client
// span named "redis COMMAND" ("redis pipeline"), a child of the span in the command's context. It records the
// command's name only: never its arguments, which hold session ids and sealed sessions.
func RedisHook(tp trace.TracerProvider) redis.Hook {
	return redisHook{tracer: tp.Tracer(ScopeName)}
}

type redisHook struct{ tracer trace.Tracer }

func (redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		op := strings.ToUpper(cmd.Name())
		ctx, span := h.tracer.Start(ctx, "redis "+op, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system.name", "redis"), attribute.String("db.operation.name", op)))
		defer span.End()
		err := next(ctx, cmd)
		failed(span, err)
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
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
		failed(span, err)
		return err
	}
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
