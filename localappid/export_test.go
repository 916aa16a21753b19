package localappid

// IssueCodeForTest stores an authorization code as a completed login would, so benchmarks can measure the token
// endpoint alone. It returns "" when the code store is full.
func (p *Provider) IssueCodeForTest(clientID, redirectURI, userID, scope, nonce, codeChallenge string) string {
	code, _ := p.issueCode(codeGrant{clientID: clientID, redirectURI: redirectURI, userID: userID, scope: scope,
		nonce: nonce, codeChallenge: codeChallenge, authTime: p.cfg.Now()})
	return code
}

// StoreSizesForTest reports how many entries each in-memory store holds, so tests can check the caps hold.
func (p *Provider) StoreSizesForTest() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return map[string]int{
		"codes": len(p.codes.entries), "refresh": len(p.refresh.entries), "sessions": len(p.sessions.entries),
		"iam": len(p.iamTokens.entries), "revoked": len(p.revoked.entries), "assertions": len(p.assertions.entries),
	}
}

// OAuthPathForTest is the OAuth server URL's path (/oauth/v4/{tenant}).
func (p *Provider) OAuthPathForTest() string { return p.oauthPath }
