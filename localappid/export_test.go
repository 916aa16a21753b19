package localappid

// IssueCodeForTest stores an authorization code as a completed login would, so benchmarks can measure the token
// endpoint alone.
func (p *Provider) IssueCodeForTest(clientID, redirectURI, userID, scope, nonce, codeChallenge string) string {
	return p.issueCode(codeGrant{clientID: clientID, redirectURI: redirectURI, userID: userID, scope: scope,
		nonce: nonce, codeChallenge: codeChallenge, authTime: p.cfg.Now()})
}
