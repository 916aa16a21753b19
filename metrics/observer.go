package metrics

// maxPolicyLen bounds the policy label; policies are named in code or configuration, so they are few.
const maxPolicyLen = 64

// oneOf returns v when it is one of allowed and "other" otherwise, so that a caller passing an unexpected
// string can never create unbounded series.
func oneOf(v string, allowed ...string) string {
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	return "other"
}

// LoginFinished counts one login callback in appidgate_logins_total{result}.
func (m *Metrics) LoginFinished(result string) {
	m.logins.WithLabelValues(oneOf(result, "success", "denied", "invalid_request", "provider_error", "roles_error")).Inc()
}

// AuthorizationDecided counts one policy decision in appidgate_authorization_decisions_total{policy,result}.
func (m *Metrics) AuthorizationDecided(policy, result string) {
	if len(policy) > maxPolicyLen {
		policy = policy[:maxPolicyLen]
	}
	m.decisions.WithLabelValues(policy, oneOf(result, "allow", "deny", "unauthenticated")).Inc()
}

// RefreshFinished counts one token refresh in appidgate_token_refreshes_total{result}.
func (m *Metrics) RefreshFinished(result string) {
	m.refreshes.WithLabelValues(oneOf(result, "success", "failure")).Inc()
}

// SessionStoreError counts one failed session store operation in appidgate_session_store_errors_total{op}.
func (m *Metrics) SessionStoreError(op string) {
	m.storeErrors.WithLabelValues(oneOf(op, "load", "save", "delete")).Inc()
}
