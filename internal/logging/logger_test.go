package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name, format, level string
		wantJSON            bool
		wantDebug           bool
		wantErr             string
	}{
		{name: "json info", format: "json", level: "info", wantJSON: true},
		{name: "text debug", format: "text", level: "debug", wantDebug: true},
		{name: "auto on a buffer is json", format: "auto", level: "warn", wantJSON: true},
		{name: "defaults", format: "", level: "", wantJSON: true},
		{name: "case-insensitive", format: "JSON", level: "DEBUG", wantJSON: true, wantDebug: true},
		{name: "bad format", format: "xml", level: "info", wantErr: `"xml"`},
		{name: "bad level", format: "json", level: "loud", wantErr: `"loud"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := New(&buf, tc.format, tc.level)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New error = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			log.Debug("dbg")
			log.Error("boom", "k", "v")
			out := buf.String()
			if got := strings.Contains(out, "dbg"); got != tc.wantDebug {
				t.Errorf("debug line logged = %v, want %v: %q", got, tc.wantDebug, out)
			}
			last := strings.TrimSpace(out)
			if i := strings.LastIndex(last, "\n"); i >= 0 {
				last = last[i+1:]
			}
			if got := json.Valid([]byte(last)); got != tc.wantJSON {
				t.Errorf("line %q is JSON = %v, want %v", last, got, tc.wantJSON)
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if isTerminal(f) {
		t.Error("regular file reported as a terminal")
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Error("buffer reported as a terminal")
	}
	// /dev/null is a character device, like a terminal: it stands in for one here.
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/null:", err)
	}
	t.Cleanup(func() { null.Close() })
	if !isTerminal(null) {
		t.Error("character device not reported as a terminal")
	}
}
