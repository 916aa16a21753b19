package appid

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
)

// RSA keys for the package's tests, each generated once: a 2048-bit key takes about 80 ms to generate (far more
// under -race), and no test needs its own. testSigningKey is the provider's first signing key in every test
// environment; testKeyA and testKeyB sign what tests forge or rotate to.
var (
	testSigningKey = sync.OnceValue(newTestRSAKey)
	testKeyA       = sync.OnceValue(newTestRSAKey)
	testKeyB       = sync.OnceValue(newTestRSAKey)
)

func newTestRSAKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}
