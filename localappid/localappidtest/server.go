package localappidtest

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"

	"github.com/appidgate/appidgate/localappid"
)

// TB is the part of testing.TB that Start uses, so that this package, which the appidgate binary also links,
// does not import package testing.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Keys generates RSA signing keys once per process and hands out the same one: a 2048-bit key takes about
// 80 ms to make (far more under -race), which tests that each start a provider would pay again and again.
// The zero value is ready; keep one in the test package, as a package-level var of the test binary.
type Keys struct {
	once sync.Once
	key  *rsa.PrivateKey
	err  error
}

// Key returns the shared key, generating it on first use.
func (k *Keys) Key() (*rsa.PrivateKey, error) {
	k.once.Do(func() { k.key, k.err = rsa.GenerateKey(rand.Reader, 2048) })
	return k.key, k.err
}

// Start runs a provider with cfg on a free loopback port for the rest of the test, and closes it when the test
// ends. The zero Config means localappid.DefaultConfig: the demo client (localappid.DemoClientID,
// DemoClientSecret, which accepts redirect URIs on localhost), the demo users alice, bob and carol with the
// password of their name, and the API key localappid.DemoAPIKey for the IAM endpoint. keys, when not nil, gives
// the signing key unless cfg has one.
//
// A relying party under test points at it with the provider's OAuthServerURL and IAMTokenURL, e.g. for appid:
//
//	idp := localappidtest.Start(t, localappid.Config{}, &keys)
//	cfg := appid.Config{ClientID: localappid.DemoClientID, ClientSecret: localappid.DemoClientSecret,
//		OAuthServerURL: idp.Provider().OAuthServerURL(), IAMTokenURL: idp.Provider().IAMTokenURL(),
//		IBMCloudAPIKey: localappid.DemoAPIKey, RedirectURL: app.URL + "/afterauth", SessionKeys: ...}
func Start(t TB, cfg localappid.Config, keys *Keys) *localappid.Server {
	t.Helper()
	if cfg.Tenant == "" && len(cfg.Clients) == 0 && len(cfg.Users) == 0 {
		key := cfg.SigningKey
		cfg = localappid.DefaultConfig()
		cfg.SigningKey = key
	}
	if cfg.SigningKey == nil && keys != nil {
		key, err := keys.Key()
		if err != nil {
			t.Fatalf("localappidtest: generating a signing key: %v", err)
		}
		cfg.SigningKey = key
	}
	s, err := localappid.Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatalf("localappidtest: starting the provider: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
