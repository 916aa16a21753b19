package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// auditLog is where audit events go (APPIDGATE_AUDIT_LOG): a stream of the process, a file, or nowhere.
type auditLog struct {
	w    io.Writer // stdout or stderr; nil for a file or off
	path string    // the file appended to; "" for a stream or off
}

// readAuditLog reads APPIDGATE_AUDIT_LOG's value: "stderr" (also when empty), "stdout", "off", or the path of a
// file (with a "/", so that a misspelt word is not taken for a file name). It returns the problem with the
// value, or "".
func readAuditLog(value string, e env) (auditLog, string) {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "", "stderr":
		return auditLog{w: e.stderr}, ""
	case "stdout":
		return auditLog{w: e.stdout}, ""
	case "off":
		return auditLog{}, ""
	}
	if !strings.Contains(value, "/") {
		return auditLog{}, fmt.Sprintf("APPIDGATE_AUDIT_LOG: expected stderr, stdout, off or a file path such as "+
			"/var/log/appidgate/audit.jsonl, got %q", value)
	}
	return auditLog{path: value}, ""
}

// open returns the audit logger, JSON records at INFO whatever APPIDGATE_LOG_LEVEL and APPIDGATE_LOG_FORMAT
// say (their shape is a documented schema, and a level must not silence them), and a function that closes its
// file; nil when off.
func (l auditLog) open() (*slog.Logger, func() error, error) {
	w, closer := l.w, func() error { return nil }
	if l.path != "" {
		f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("APPIDGATE_AUDIT_LOG: opening the audit log: %w", err)
		}
		w, closer = f, f.Close
	}
	if w == nil {
		return nil, closer, nil
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})), closer, nil
}
