package httpwrap_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/httpwrap"
)

func TestRecorder(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantBytes  int64
	}{
		{"nothing written", func(w http.ResponseWriter, r *http.Request) {}, http.StatusOK, 0},
		{"body only", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }, http.StatusOK, 5},
		{"status then body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "gone")
			io.WriteString(w, "!")
		}, http.StatusNotFound, 5},
		{"second status ignored", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusForbidden, 0},
		{"informational status is not final", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
		}, http.StatusCreated, 0},
		{"flush sends a 200", func(w http.ResponseWriter, r *http.Request) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
			w.WriteHeader(http.StatusTeapot) // too late: the 200 is out
		}, http.StatusOK, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			rec := httpwrap.Wrap(w)
			tc.handler(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Status() != tc.wantStatus || rec.Bytes() != tc.wantBytes {
				t.Errorf("Status, Bytes = %d, %d; want %d, %d", rec.Status(), rec.Bytes(), tc.wantStatus, tc.wantBytes)
			}
			if int64(w.Body.Len()) != tc.wantBytes {
				t.Errorf("the wrapped writer got %d bytes, want %d", w.Body.Len(), tc.wantBytes)
			}
		})
	}
}

// TestRecorderUnwrap: http.ResponseController reaches the server's writer through the recorder, for deadlines
// and hijacking.
func TestRecorderUnwrap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(httpwrap.Wrap(w))
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		conn, buf, err := rc.Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
		buf.Flush()
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("status %d, want 204 written on the hijacked connection", resp.StatusCode)
	}
}

// TestWrapNested: a middleware inside another sees the same response, so it shares the outer recorder.
func TestWrapNested(t *testing.T) {
	outer := httpwrap.Wrap(httptest.NewRecorder())
	inner := httpwrap.Wrap(outer)
	if inner != outer {
		t.Fatal("Wrap of a Recorder made a second Recorder")
	}
	inner.WriteHeader(http.StatusAccepted)
	io.WriteString(inner, "ok")
	if outer.Status() != http.StatusAccepted || outer.Bytes() != 2 {
		t.Errorf("outer sees %d, %d bytes; want 202, 2", outer.Status(), outer.Bytes())
	}
}
