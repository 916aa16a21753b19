package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/proxy"
)

// routesReloader puts a changed routes file in force: on SIGHUP, and when a look at the file every interval
// finds its content changed. A file with problems leaves the routes in force, and each problem is logged.
type routesReloader struct {
	live    *proxy.LiveRoutes
	log     *slog.Logger
	metrics reloadMetrics
}

// reloadMetrics records reloads (metrics.Metrics).
type reloadMetrics interface {
	RoutesLoaded(at time.Time, reload bool)
	RoutesReloadFailed()
}

// reloadInterval reads APPIDGATE_ROUTES_RELOAD_INTERVAL: a positive duration, or "off" (0: never look).
func reloadInterval(value string) (time.Duration, error) {
	switch value {
	case "":
		return 5 * time.Second, nil
	case "off":
		return 0, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("APPIDGATE_ROUTES_RELOAD_INTERVAL: expected a duration such as 5s, or off, got %q", value)
	}
	return d, nil
}

// run reloads on each value of hangup and, with a positive interval and a routes file, when the file changed;
// it returns when ctx ends.
func (rr routesReloader) run(ctx context.Context, hangup <-chan os.Signal, interval time.Duration) {
	var tick <-chan time.Time
	if interval > 0 && rr.live.File() != "" {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hangup:
			rr.reload("SIGHUP", false)
		case <-tick:
			rr.reload("file changed", true)
		}
	}
}

// reload reloads the routes (when onlyChanged, only when the file's content changed) and logs the outcome,
// naming trigger as what asked for it.
func (rr routesReloader) reload(trigger string, onlyChanged bool) {
	file := rr.live.File()
	if file == "" {
		rr.log.Info("routes: no routes file to reload; the routes of the flags stay", "trigger", trigger)
		return
	}
	var changed bool
	var v proxy.RoutesVersion
	var err error
	if onlyChanged {
		changed, v, err = rr.live.ReloadIfChanged()
	} else {
		changed = true
		v, err = rr.live.Reload()
	}
	if !changed {
		return
	}
	if err != nil {
		rr.metrics.RoutesReloadFailed()
		problems := []string{err.Error()}
		var re *proxy.RoutesError
		if errors.As(err, &re) {
			problems = problemTexts(re.Problems)
		}
		rr.log.Error(fmt.Sprintf("routes: reload failed with %d problem(s); the routes in force stay", len(problems)),
			"routes", file, "trigger", trigger, "sha256_in_force", v.SHA256)
		for _, p := range problems {
			rr.log.Error("routes: "+p, "routes", file)
		}
		return
	}
	rr.metrics.RoutesLoaded(v.LoadedAt, true)
	rr.log.Info("routes reloaded", "routes", file, "trigger", trigger, "sha256", v.SHA256)
	for _, w := range rr.live.Routes().PublicFallThroughs() {
		rr.log.Warn("routes: "+w, "routes", file)
	}
}

// problemTexts is each problem as a line: where it is, then what is wrong.
func problemTexts(ps []appid.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
