package logging

import (
	"context"
	"sync"
)

// requestInfo travels in the request context so that inner handlers can report facts (the user id) back out
// to the logging middleware, which writes its line after the inner chain has returned.
type requestInfo struct {
	id string

	mu   sync.Mutex
	user string
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(infoKey{}).(*requestInfo)
	return ri
}

// RequestID returns the id the Requests middleware assigned to the request carrying ctx, or "" outside it.
func RequestID(ctx context.Context) string {
	if ri := infoFrom(ctx); ri != nil {
		return ri.id
	}
	return ""
}

// SetUser records the authenticated user's id for the request's log line. Call it from inside the handler
// chain (for example from the appid middleware once the session is loaded); outside the Requests middleware
// it does nothing. Pass an opaque id (App ID's sub), never an email or a token.
func SetUser(ctx context.Context, id string) {
	if ri := infoFrom(ctx); ri != nil {
		ri.mu.Lock()
		ri.user = id
		ri.mu.Unlock()
	}
}

func (ri *requestInfo) userID() string {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return ri.user
}
