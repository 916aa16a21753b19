package proxy

import (
	"net/http"
	"sync"
	"time"
)

// headerFlushDelay is how long an answer's headers wait for the first part of its body before they are sent on
// their own.
const headerFlushDelay = 10 * time.Millisecond

// flushWriter passes each part of an upstream's answer on to the client as soon as it is copied, lengthy or
// not (a slowly written download with a Content-Length too), as httputil.ReverseProxy does with a FlushInterval
// of -1, but without what that setting costs every answer: a timer that fires at once, on a goroutine of its
// own, to send the headers in a write of their own. Here the headers go out with the first part of the body, or
// on their own when that part keeps them waiting longer than headerFlushDelay. ReverseProxy's own flushing of
// streams (text/event-stream, answers of unknown length) goes through Flush.
type flushWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	mu    sync.Mutex  // the copy and the timer write in turn
	timer *time.Timer // from the headers to the first part of the body
	wrote bool        // the body has begun: the headers went with it
	done  bool        // the handler returned: nothing more may be written
}

func newFlushWriter(w http.ResponseWriter) *flushWriter {
	return &flushWriter{ResponseWriter: w, rc: http.NewResponseController(w)}
}

// WriteHeader writes the status and headers, and sends them on their own unless the body follows soon.
func (f *flushWriter) WriteHeader(code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ResponseWriter.WriteHeader(code)
	// Informational answers (103 Early Hints) are sent at once by net/http.
	if code >= http.StatusOK && f.timer == nil && !f.wrote {
		f.timer = time.AfterFunc(headerFlushDelay, f.flushHeaders)
	}
}

// Write writes p and sends it to the client at once. A writer underneath that cannot flush (a handler of the
// library user's that wraps the proxy, http.TimeoutHandler) gets p all the same, buffered, as ReverseProxy's
// own flushing does: the flush's error is not the write's.
func (f *flushWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.wrote {
		f.wrote = true
		if f.timer != nil {
			f.timer.Stop()
		}
	}
	n, err := f.ResponseWriter.Write(p)
	if err == nil {
		f.rc.Flush()
	}
	return n, err
}

// flushHeaders sends the headers that are still waiting for the body.
func (f *flushWriter) flushHeaders() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.wrote && !f.done {
		f.rc.Flush()
	}
}

// FlushError sends what is buffered; http.ResponseController's Flush finds it.
func (f *flushWriter) FlushError() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rc.Flush()
}

// Unwrap returns the ResponseWriter underneath, for http.ResponseController (hijacking an upgraded connection).
func (f *flushWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// stop ends the writer when the handler returns: the timer, if still armed, sends nothing after that.
func (f *flushWriter) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = true
	if f.timer != nil {
		f.timer.Stop()
	}
}
