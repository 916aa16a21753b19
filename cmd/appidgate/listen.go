package main

import (
	"errors"
	"fmt"
	"syscall"
)

// listenProblem explains why listening on addr failed: when another process holds the address it says so and
// names fix, the setting that moves the listener elsewhere; any other error is reported as it is.
func listenProblem(addr string, err error, fix string) string {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Sprintf("another process is listening on %s; stop it or %s", addr, fix)
	}
	return err.Error()
}
