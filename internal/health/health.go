// Package health serves the liveness (/healthz) and readiness (/readyz) probes that Code Engine calls.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// DefaultCheckTimeout bounds each readiness check when the caller sets no timeout. Probes time out after
// one second by default on Knative, so checks must answer well within it.
const DefaultCheckTimeout = 800 * time.Millisecond

// Check is one named readiness condition, such as "provider" (metadata and keys loaded) or "redis".
// Run must return nil when the condition holds and honour ctx's deadline.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Live returns the liveness handler: 200 "ok" for as long as the process serves HTTP at all.
func Live() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n"))
	})
}

// report is the /readyz response body.
type report struct {
	Status  string            `json:"status"`            // "ok" or "unavailable"
	Checks  map[string]string `json:"checks"`            // check name -> "ok", "fail" or "timeout"
	Failing []string          `json:"failing,omitempty"` // names of failing checks, in registration order
}

// Ready returns the readiness handler. On every request it runs all checks concurrently, each bounded by
// timeout (DefaultCheckTimeout when zero), and answers 200 when all pass and 503 otherwise, with a JSON body
// naming each failing check. Nothing is cached, so recovery shows on the next probe. Error details go to log
// (when non-nil), not to the response: readiness is reachable from the internet and errors may name
// internal addresses.
func Ready(log *slog.Logger, timeout time.Duration, checks ...Check) http.Handler {
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		results := make([]string, len(checks))
		var wg sync.WaitGroup
		for i, c := range checks {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(r.Context(), timeout)
				defer cancel()
				err := run(ctx, c)
				switch {
				case err == nil:
					results[i] = "ok"
				case errors.Is(err, context.DeadlineExceeded):
					results[i] = "timeout"
					log.WarnContext(ctx, "readiness check timed out", "check", c.Name, "timeout", timeout.String())
				default:
					results[i] = "fail"
					log.WarnContext(ctx, "readiness check failed", "check", c.Name, "err", err.Error())
				}
			})
		}
		wg.Wait()

		rep := report{Status: "ok", Checks: make(map[string]string, len(checks))}
		for i, c := range checks {
			rep.Checks[c.Name] = results[i]
			if results[i] != "ok" {
				rep.Failing = append(rep.Failing, c.Name)
			}
		}
		code := http.StatusOK
		if len(rep.Failing) > 0 {
			rep.Status = "unavailable"
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(rep)
	})
}

// run calls c.Run but gives up when ctx ends, so a check that ignores its context cannot hold the probe.
func run(ctx context.Context, c Check) error {
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
