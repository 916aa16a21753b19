package appid

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
)

// testSigningKey is the provider's first signing key in every test environment of this package, generated once:
// a 2048-bit RSA key takes about 80 ms to generate (far more under -race), and no test needs its own.
var testSigningKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})
