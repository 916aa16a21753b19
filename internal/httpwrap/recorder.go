// Package httpwrap records what a handler answers, for the middleware that logs and counts responses.
package httpwrap

import "net/http"

// Recorder is an http.ResponseWriter that passes everything through to the ResponseWriter it wraps and
// remembers the final status code and the number of body bytes written. Get one from Wrap. Through Unwrap,
// http.ResponseController reaches the wrapped writer's other abilities (hijacking, deadlines).
type Recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

// Wrap returns a Recorder of the response w writes. When w is already a Recorder (an outer middleware records
// the same response) it is returned as it is: its status and byte count are this response's too, and a second
// wrapper would cost an allocation per request for nothing.
func Wrap(w http.ResponseWriter) *Recorder {
	if r, ok := w.(*Recorder); ok {
		return r
	}
	return &Recorder{ResponseWriter: w}
}

// WriteHeader records code unless a final status was already sent; 1xx informational answers are not final.
func (r *Recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write counts the bytes written; a body without a status is a 200, as net/http sends it.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers (and the reverse proxy) flush through the recorder; a flush sends a 200 when no
// status was written.
func (r *Recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		if r.status == 0 {
			r.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap gives http.ResponseController access to the wrapped writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Status is the final status code sent, http.StatusOK when the handler wrote nothing (net/http sends a 200
// then).
func (r *Recorder) Status() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Bytes is how many body bytes were written.
func (r *Recorder) Bytes() int64 { return r.bytes }
