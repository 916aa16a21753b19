package appid

// Observer receives the events that matter to operators, for metrics. Every method must be cheap and safe for
// concurrent use; a nil Observer in Config means events are dropped.
type Observer interface {
	// LoginFinished reports the outcome of one callback: "success", "denied" (provider error such as
	// access_denied), "invalid_request" (bad state, replay, missing code), "provider_error" (token exchange or
	// verification failed), "roles_error" (management API failed).
	LoginFinished(result string)
	// AuthorizationDecided reports one policy decision: result is "allow", "deny" (403) or "unauthenticated"
	// (302 to login or 401).
	AuthorizationDecided(policy, result string)
	// RefreshFinished reports one token refresh: "success" or "failure".
	RefreshFinished(result string)
	// SessionStoreError reports a failed session store operation: op is "load", "save" or "delete".
	SessionStoreError(op string)
}
