package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// recordingIdP is the local provider on its own origin with 2 s access tokens (so that a test can see a
// refresh), keeping every token it issues so that a test can look for them where they must not be.
type recordingIdP struct {
	p *localappid.Provider

	mu     sync.Mutex
	issued []string // access, refresh and id tokens, IAM tokens
}

func newRecordingIdP(t *testing.T) *recordingIdP {
	t.Helper()
	idp := &recordingIdP{}
	srv := httptest.NewServer(http.HandlerFunc(idp.serve))
	t.Cleanup(srv.Close)
	cfg := localappid.DefaultConfig()
	cfg.BaseURL = srv.URL
	cfg.SigningKey = testkit.RSAKey()
	cfg.AccessTokenTTL = 2 * time.Second
	var err error
	if idp.p, err = localappid.New(cfg); err != nil {
		t.Fatal(err)
	}
	return idp
}

func (idp *recordingIdP) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/token") {
		idp.p.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	idp.p.ServeHTTP(rec, r)
	var answer map[string]any
	if json.Unmarshal(rec.Body.Bytes(), &answer) == nil {
		idp.mu.Lock()
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			if s, ok := answer[k].(string); ok && s != "" {
				idp.issued = append(idp.issued, s)
			}
		}
		idp.mu.Unlock()
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func (idp *recordingIdP) tokens() []string {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return append([]string(nil), idp.issued...)
}

// upstreamRecorder is the proxied app: it answers 200 and keeps the traceparent of each request by path.
type upstreamRecorder struct {
	mu     sync.Mutex
	parent map[string]string
}

func (u *upstreamRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.parent[r.URL.Path] = r.Header.Get("Traceparent")
	u.mu.Unlock()
	io.WriteString(w, "upstream "+r.URL.Path)
}

func (u *upstreamRecorder) traceparent(path string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.parent[path]
}

// TestTracesOfLoginProxyAndRefresh runs the proxy with its spans going to an in-memory exporter, signs in through
// it, is proxied, and refreshes: the spans form the trees an operator expects, the upstream joins the trace,
// only a trusted proxy's trace context is continued, every log line of a request names its trace, and no
// token, cookie, secret or query string is in any span.
func TestTracesOfLoginProxyAndRefresh(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: waits for an access token to expire")
	}
	idp := newRecordingIdP(t)
	up := &upstreamRecorder{parent: map[string]string{}}
	upstream := httptest.NewServer(up)
	defer upstream.Close()
	port := testkit.FreePort(t)
	app := fmt.Sprintf("http://127.0.0.1:%d", port)
	vars := map[string]string{
		"APPIDGATE_LISTEN_ADDR":   fmt.Sprintf("127.0.0.1:%d", port),
		"APPIDGATE_REQUIRE_APPID": "1",
		"APPID_CLIENT_ID":         localappid.DemoClientID,
		"APPID_CLIENT_SECRET":     localappid.DemoClientSecret,
		"APPID_OAUTH_SERVER_URL":  idp.p.OAuthServerURL(),
		"APPID_REDIRECT_URI":      app + "/afterauth",
		"SESSION_SECRET_KEY":      "test-session-key-0123456789abcdef",
		"IBM_CLOUD_APIKEY":        localappid.DemoAPIKey,
		"IAM_TOKEN_URL":           idp.p.IAMTokenURL(),
		"APPIDGATE_LOG_FORMAT":    "json",
	}
	spans := tracetest.NewInMemoryExporter()
	stderr := startProxy(t, []string{"--upstream", upstream.URL, "--public", "/open", "--trusted-proxy", "127.0.0.2/32"},
		vars, func(e *env) { e.spans = spans }).stderr

	// A login, landing on the upstream with the query string the user asked for.
	const query = "q=query-marker-4711"
	b := testkit.NewBrowser(t)
	got := b.SignIn(b.Get(app+"/app/page?"+query), "alice", "alice")
	if got.Status != http.StatusOK || got.Body != "upstream /app/page" {
		t.Fatalf("login: %d at %s: %q", got.Status, got.URL, got.Body)
	}
	callback := findSpan(t, ended(t, spans), "GET /afterauth")
	tree := spanTree(ended(t, spans), callback.SpanContext.TraceID())
	t.Logf("the login's callback:\n%s", tree)
	for _, want := range []string{
		"GET /afterauth\n",
		"\n  appid.token_exchange",
		"\n    POST token",
		"\n  appid.verify_tokens",
		"\n  appid.roles",
		"\n    POST iam_token",
		"\n    GET roles",
	} {
		if !strings.Contains(stripDurations(tree), want) {
			t.Errorf("the callback's span tree lacks %q", want)
		}
	}
	// Discovery and the keys were fetched once, under the first request that needed them.
	all := stripDurations(spanTree(ended(t, spans), trace.TraceID{}))
	for _, want := range []string{"GET discovery", "GET publickeys"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %s span in:\n%s", want, all)
		}
	}

	// The proxied request: its upstream call is a child span, and the upstream got that span as its parent.
	proxied := lastSpan(t, ended(t, spans), "GET proxy default")
	call := lastSpan(t, ended(t, spans), "GET upstream")
	if call.Parent.SpanID() != proxied.SpanContext.SpanID() || call.SpanKind != trace.SpanKindClient {
		t.Errorf("the upstream call's parent is %s, want the proxied request's span %s", call.Parent.SpanID(),
			proxied.SpanContext.SpanID())
	}
	want := fmt.Sprintf("00-%s-%s-01", call.SpanContext.TraceID(), call.SpanContext.SpanID())
	if tp := up.traceparent("/app/page"); tp != want {
		t.Errorf("the upstream received traceparent %q, want %q", tp, want)
	}

	// Every log line of the callback's request names its trace.
	traceID := callback.SpanContext.TraceID().String()
	sawRequestLine := false
	for _, line := range strings.Split(stderr.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["path"] != "/afterauth" {
			continue
		}
		if rec["log_type"] == "audit" {
			// An audit record has a schema of its own: the trace id, no span id.
			if rec["trace_id"] != traceID {
				t.Errorf("the callback's audit record %s lacks trace_id %s", line, traceID)
			}
			continue
		}
		sawRequestLine = true
		if rec["trace_id"] != traceID || rec["span_id"] == nil || rec["request_id"] == nil {
			t.Errorf("the callback's log line %s lacks trace_id %s, span_id or request_id", line, traceID)
		}
	}
	if !sawRequestLine {
		t.Errorf("no request line for /afterauth in:\n%s", stderr.String())
	}

	// A refresh once the 2 s access token expired.
	time.Sleep(2500 * time.Millisecond)
	if got := b.Get(app + "/app/again"); got.Status != http.StatusOK {
		t.Fatalf("after the access token expired: %d %q", got.Status, got.Body)
	}
	refresh := lastSpan(t, ended(t, spans), "appid.refresh")
	again := lastSpan(t, ended(t, spans), "GET proxy default")
	if refresh.Parent.SpanID() != again.SpanContext.SpanID() {
		t.Errorf("appid.refresh is not a child of the request that refreshed")
	}
	t.Logf("the request that refreshed:\n%s", subtree(ended(t, spans), again, 0))
	if !strings.Contains(stripDurations(subtree(ended(t, spans), again, 0)), "\n    POST token") {
		t.Errorf("the refresh made no token call span")
	}

	// Trace context from a trusted proxy is continued; from anyone else it starts a new trace and never reaches
	// the upstream.
	const parentTrace, parentSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	for _, tc := range []struct {
		name, from, path string
		continued        bool
	}{
		{"untrusted", "127.0.0.1", "/open/untrusted", false},
		{"trusted proxy", "127.0.0.2", "/open/trusted", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
				LocalAddr: &net.TCPAddr{IP: net.ParseIP(tc.from)}}).DialContext}}
			req, _ := http.NewRequest(http.MethodGet, app+tc.path, nil)
			req.Header.Set("Traceparent", "00-"+parentTrace+"-"+parentSpan+"-01")
			req.Header.Set("Tracestate", "vendor=from-the-client")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			client.CloseIdleConnections()
			var server tracetest.SpanStub
			for _, s := range ended(t, spans) {
				if s.SpanKind == trace.SpanKindServer && attr(s, "url.path") == tc.path {
					server = s
				}
			}
			if !server.SpanContext.IsValid() {
				t.Fatalf("no server span for %s", tc.path)
			}
			continued := server.SpanContext.TraceID().String() == parentTrace &&
				server.Parent.SpanID().String() == parentSpan && server.Parent.IsRemote()
			if continued != tc.continued {
				t.Errorf("trace %s parent %s: continued = %v, want %v", server.SpanContext.TraceID(),
					server.Parent.SpanID(), continued, tc.continued)
			}
			tp := up.traceparent(tc.path)
			if strings.Contains(tp, parentTrace) != tc.continued || !strings.Contains(tp, server.SpanContext.TraceID().String()) {
				t.Errorf("the upstream received traceparent %q; the request's trace is %s", tp, server.SpanContext.TraceID())
			}
		})
	}

	// Nothing secret in any span.
	secrets := map[string]string{
		"client secret":  localappid.DemoClientSecret,
		"session secret": vars["SESSION_SECRET_KEY"],
		"API key":        localappid.DemoAPIKey,
		"query string":   query,
		"a code":         "code=",
		"a state":        "state=",
	}
	for i, tok := range idp.tokens() {
		secrets[fmt.Sprintf("token %d", i)] = tok
	}
	if len(idp.tokens()) < 5 { // access, refresh and id tokens of the login, access and refresh of the refresh
		t.Errorf("recorded %d tokens, want at least 5", len(idp.tokens()))
	}
	u, _ := url.Parse(app)
	for _, c := range b.Client.Jar.Cookies(u) {
		secrets["cookie "+c.Name] = c.Value
	}
	text := spansText(ended(t, spans))
	for what, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("a span holds the %s", what)
		}
	}
}

// ended returns the spans exp holds once every span's parent has ended too: a request's span ends just after
// its client has the answer.
func ended(t *testing.T, exp *tracetest.InMemoryExporter) tracetest.SpanStubs {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		spans := exp.GetSpans()
		complete := true
		for _, s := range spans {
			if s.Parent.IsValid() && !s.Parent.IsRemote() && !hasParentIn(spans, s) {
				complete = false
			}
		}
		if complete || time.Now().After(deadline) {
			return spans
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// findSpan returns the first span named name.
func findSpan(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name
	}
	t.Fatalf("no span named %q among %d: %q", name, len(spans), names)
	return tracetest.SpanStub{}
}

// lastSpan returns the last span named name to end.
func lastSpan(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	for i := len(spans) - 1; i >= 0; i-- {
		if spans[i].Name == name {
			return spans[i]
		}
	}
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name
	}
	t.Fatalf("no span named %q among %d: %q", name, len(spans), names)
	return tracetest.SpanStub{}
}

// spanTree prints the spans of trace (of every trace when zero) as an indented tree of names and durations.
func spanTree(spans tracetest.SpanStubs, id trace.TraceID) string {
	var sb strings.Builder
	for _, s := range sortedByStart(spans) {
		if (id.IsValid() && s.SpanContext.TraceID() != id) || hasParentIn(spans, s) {
			continue
		}
		sb.WriteString(subtree(spans, s, 0))
	}
	return sb.String()
}

func subtree(spans tracetest.SpanStubs, root tracetest.SpanStub, depth int) string {
	line := fmt.Sprintf("%s%s %s\n", strings.Repeat("  ", depth), root.Name,
		root.EndTime.Sub(root.StartTime).Round(10*time.Microsecond))
	for _, s := range sortedByStart(spans) {
		if s.Parent.SpanID() == root.SpanContext.SpanID() && s.SpanContext.TraceID() == root.SpanContext.TraceID() {
			line += subtree(spans, s, depth+1)
		}
	}
	return line
}

func hasParentIn(spans tracetest.SpanStubs, s tracetest.SpanStub) bool {
	for _, p := range spans {
		if s.Parent.SpanID() == p.SpanContext.SpanID() && s.Parent.IsValid() {
			return true
		}
	}
	return false
}

func sortedByStart(spans tracetest.SpanStubs) tracetest.SpanStubs {
	out := append(tracetest.SpanStubs(nil), spans...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartTime.Before(out[j].StartTime) })
	return out
}

// stripDurations removes the durations spanTree prints, leaving names and indentation.
func stripDurations(tree string) string {
	var sb strings.Builder
	for _, line := range strings.SplitAfter(tree, "\n") {
		if i := strings.LastIndexByte(line, ' '); i > 0 && strings.HasSuffix(line, "\n") {
			line = line[:i] + "\n"
		}
		sb.WriteString(line)
	}
	return "\n" + sb.String()
}

// attr returns the value of span attribute key, "" when it has none.
func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

// spansText is everything the spans record, as text: names, attributes, events, links, statuses, resources.
func spansText(spans tracetest.SpanStubs) string {
	var buf bytes.Buffer
	for _, s := range spans {
		fmt.Fprintln(&buf, s.Name, s.Status.Description, s.SpanContext.TraceState().String())
		for _, kv := range s.Attributes {
			fmt.Fprintln(&buf, kv.Key, kv.Value.Emit())
		}
		for _, ev := range s.Events {
			fmt.Fprintln(&buf, ev.Name)
			for _, kv := range ev.Attributes {
				fmt.Fprintln(&buf, kv.Key, kv.Value.Emit())
			}
		}
		for _, l := range s.Links {
			for _, kv := range l.Attributes {
				fmt.Fprintln(&buf, kv.Key, kv.Value.Emit())
			}
		}
		if s.Resource != nil {
			for _, kv := range s.Resource.Attributes() {
				fmt.Fprintln(&buf, kv.Key, kv.Value.Emit())
			}
		}
	}
	return buf.String()
}

var _ sdktrace.SpanExporter = (*tracetest.InMemoryExporter)(nil)
