package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary play the measured server: with MEASURE_HELPER set it serves /healthz on
// APPIDGATE_LISTEN_ADDR and exits with the code MEASURE_HELPER names on SIGTERM.
func TestMain(m *testing.M) {
	if code := os.Getenv("MEASURE_HELPER"); code != "" {
		helperServer(code)
		return
	}
	os.Exit(m.Run())
}

func helperServer(code string) {
	if code == "crash" {
		os.Stderr.WriteString("config error: APPID_CLIENT_ID missing\n")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", os.Getenv("APPIDGATE_LISTEN_ADDR"))
	if err != nil {
		os.Exit(3)
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	<-term
	if code == "1" {
		os.Exit(1)
	}
	os.Exit(0)
}

func TestStartup(t *testing.T) {
	tests := []struct {
		name     string
		helper   string
		path     string
		wantErr  string
		wantCode int
	}{
		{name: "ready then clean exit", helper: "0", path: "/healthz"},
		{name: "unclean exit reported", helper: "1", path: "/healthz", wantCode: 1},
		{name: "exits at start", helper: "crash", path: "/healthz", wantErr: "APPID_CLIENT_ID missing"},
		{name: "never ready", helper: "0", path: "/missing", wantErr: "did not answer 200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Startup(context.Background(), Spec{
				Bin: os.Args[0], Env: []string{"MEASURE_HELPER=" + tc.helper}, Path: tc.path, Timeout: 500 * time.Millisecond,
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Startup error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Ready <= 0 || r.ExitCode != tc.wantCode {
				t.Errorf("Startup = %+v, want ready > 0 and exit code %d", r, tc.wantCode)
			}
		})
	}
}

func TestRunReports(t *testing.T) {
	t.Setenv("MEASURE_HELPER", "0")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-bin", os.Args[0], "-runs", "3"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"binary size:", "start to first /healthz 200 over 3 runs: median"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestMedian(t *testing.T) {
	if got := median([]time.Duration{1, 2, 3}); got != 2 {
		t.Errorf("odd median = %v", got)
	}
	if got := median([]time.Duration{1, 2, 3, 5}); got != 2 {
		t.Errorf("even median = %v, want 2 (integer mean of 2 and 3)", got)
	}
}
