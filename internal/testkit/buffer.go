package testkit

import (
	"bytes"
	"sync"
	"time"
)

// Buffer is a bytes.Buffer that a running server, logger or child process may write to while the test reads it.
// The zero value is an empty buffer ready to use.
type Buffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // closed by the next write, for Wait; nil while nobody waits
}

// Write appends p to the buffer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.wake()
	return b.buf.Write(p)
}

// WriteString appends s to the buffer.
func (b *Buffer) WriteString(s string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.wake()
	return b.buf.WriteString(s)
}

// wake tells the waiters that the buffer changed; b.mu is held.
func (b *Buffer) wake() {
	if b.written != nil {
		close(b.written)
		b.written = nil
	}
}

// Wait returns true as soon as ok holds for everything written so far, checking again after each write instead of
// polling, or false when it still does not hold after timeout.
func (b *Buffer) Wait(timeout time.Duration, ok func(written string) bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		b.mu.Lock()
		if ok(b.buf.String()) {
			b.mu.Unlock()
			return true
		}
		if b.written == nil {
			b.written = make(chan struct{})
		}
		written := b.written
		b.mu.Unlock()
		select {
		case <-written:
		case <-timer.C:
			return ok(b.String())
		}
	}
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset empties the buffer.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.wake()
	b.buf.Reset()
}
