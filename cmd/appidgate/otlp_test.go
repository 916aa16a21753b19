package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/appidgate/appidgate/internal/testkit"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it accepts POST /v1/traces in protobuf and keeps the spans.
type otlpReceiver struct {
	mu       sync.Mutex
	services []string
	spans    []*tracepb.Span
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want POST /v1/traces in protobuf", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	var req coltrace.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.Key == "service.name" {
				o.services = append(o.services, kv.GetValue().GetStringValue())
			}
		}
		for _, ss := range rs.ScopeSpans {
			o.spans = append(o.spans, ss.Spans...)
		}
	}
	o.mu.Unlock()
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func (o *otlpReceiver) names() (services, spans []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.spans {
		spans = append(spans, s.Name)
	}
	return append([]string(nil), o.services...), spans
}

// TestProcessExportsSpansOverOTLP runs appidgate as its own process with OTEL_EXPORTER_OTLP_ENDPOINT pointing at
// an OTLP/HTTP receiver, and a batch delay longer than the test: the spans of its requests arrive when SIGTERM's
// graceful shutdown flushes them.
func TestProcessExportsSpansOverOTLP(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a process")
	}
	receiver := &otlpReceiver{}
	collector := httptest.NewServer(receiver)
	defer collector.Close()

	port := testkit.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(os.Args[0], "demo")
	cmd.Env = append(os.Environ(), childEnv+"=1", "APPIDGATE_LISTEN_ADDR=127.0.0.1:"+fmt.Sprint(port),
		"OTEL_EXPORTER_OTLP_ENDPOINT="+collector.URL, "OTEL_BSP_SCHEDULE_DELAY=600000",
		"OTEL_SERVICE_NAME=appidgate-under-test", "APPIDGATE_SHUTDOWN_TIMEOUT=10s",
		"APPIDGATE_SHUTDOWN_DELAY=0") // no load balancer to wait for: SIGTERM stops at once
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	waitHealthy(t, client, base+"/healthz")
	for _, path := range []string{"/noauth_route?x=1", "/auth_route"} {
		// localhost: the demo on its local provider sends other host names there first.
		resp, err := client.Get(fmt.Sprintf("http://localhost:%d%s", port, path))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if _, spans := receiver.names(); len(spans) != 0 {
		t.Errorf("spans arrived before the batch delay or shutdown: %q", spans)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the process did not exit within 15 s of SIGTERM")
	}
	services, spans := receiver.names()
	got := strings.Join(spans, ",")
	for _, want := range []string{"GET /healthz", "GET /noauth_route", "GET /auth_route", "GET discovery"} {
		if !strings.Contains(got, want) {
			t.Errorf("the receiver got spans %q, want one named %q", got, want)
		}
	}
	for _, s := range services {
		if s != "appidgate-under-test" {
			t.Errorf("service.name %q, want OTEL_SERVICE_NAME's appidgate-under-test", s)
		}
	}
	if !strings.Contains(stderr.String(), "traces are exported over OTLP/HTTP") {
		t.Errorf("the start did not say traces are exported; stderr:\n%s", stderr.String())
	}
}
