package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"
)

// LiveRoutes holds the routes of a routes file and the route flags, and puts new ones in force when the file
// changes, while requests are served. A Proxy or ForwardAuth given it (Config.LiveRoutes) reads the routes in
// force once per request: each request is decided wholly by the routes it started with, and a reload waits for
// no request, nor a request for a reload. A file with any problem leaves the routes in force as they are.
// Its methods are safe for concurrent use.
type LiveRoutes struct {
	file  string
	flags RouteFlags
	cur   atomic.Pointer[Routes]

	mu      sync.Mutex    // serializes reloads, and guards the fields below
	version RoutesVersion // of the routes in force
	seen    [32]byte      // the SHA-256 of the content last read, put in force or not (of the error when unreadable)
	// pending is the SHA-256 of a changed content that ReloadIfChanged saw once and waits to see again, with
	// hasPending, before it reads it as the file: a file written in place may have been read half-written.
	pending    [32]byte
	hasPending bool
}

// RoutesVersion says which routes are in force.
type RoutesVersion struct {
	// SHA256 is the hex SHA-256 of the routes file's content; empty without a file.
	SHA256 string
	// LoadedAt is when they were put in force.
	LoadedAt time.Time
}

// LoadLiveRoutes loads the routes of file (none when "") and flags as LoadRoutes does, and fails as it does.
func LoadLiveRoutes(file string, flags RouteFlags) (*LiveRoutes, error) {
	l := &LiveRoutes{file: file, flags: flags}
	if _, err := l.Reload(); err != nil {
		return nil, err
	}
	return l, nil
}

// File is the routes file, "" when the routes come from flags only.
func (l *LiveRoutes) File() string { return l.file }

// Routes returns the routes in force.
func (l *LiveRoutes) Routes() *Routes { return l.cur.Load() }

// Version says which routes are in force.
func (l *LiveRoutes) Version() RoutesVersion {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.version
}

// Reload reads the file again and puts its routes, with the flags', in force at once (an operator's explicit
// reload, such as SIGHUP). When the file cannot be read, is not a regular file (a FIFO, a device, a directory)
// or has any problem, the routes in force stay, and the error lists every problem, each with its file, line and
// column (see LoadRoutes).
func (l *LiveRoutes) Reload() (RoutesVersion, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, v, err := l.reload(false)
	return v, err
}

// ReloadIfChanged is Reload when the file's content (or the error reading it) differs from what the last read
// found, whether that was put in force or refused, and is the same as at the previous call: a change is taken
// on the second look that finds it unchanged, so that a file being written in place, read half-written, is
// never put in force (a half-written file may well parse, with its later rules missing). A broken file is
// reported once, not at every look. It reports whether it reloaded; called every interval, it puts a change in
// force one to two intervals after it was made.
func (l *LiveRoutes) ReloadIfChanged() (bool, RoutesVersion, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reload(true)
}

// reload does the work of Reload and ReloadIfChanged, under l.mu.
func (l *LiveRoutes) reload(onlyChanged bool) (bool, RoutesVersion, error) {
	var data []byte
	var sum [32]byte
	var readErr error
	if l.file != "" {
		data, readErr = readRoutesFile(l.file)
		if readErr != nil {
			sum = sha256.Sum256([]byte("unreadable: " + readErr.Error()))
		} else {
			sum = sha256.Sum256(data)
		}
	}
	if onlyChanged && l.cur.Load() != nil {
		if sum == l.seen { // unchanged, or changed back before it was taken
			l.hasPending = false
			return false, l.version, nil
		}
		if !l.hasPending || sum != l.pending { // a change seen once: taken at the next look if it holds
			l.pending, l.hasPending = sum, true
			return false, l.version, nil
		}
	}
	l.hasPending = false
	l.seen = sum
	if readErr != nil {
		return true, l.version, readErr
	}
	rt, err := buildRoutes(l.file, data, l.flags)
	if err != nil {
		return true, l.version, err
	}
	l.cur.Store(rt)
	l.version = RoutesVersion{LoadedAt: time.Now()}
	if l.file != "" {
		l.version.SHA256 = hex.EncodeToString(sum[:])
	}
	return true, l.version, nil
}
