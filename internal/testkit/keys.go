package testkit

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"sync"
)

// rsaKeys are the test binary's RSA keys, each generated on first use: a 2048-bit key takes about 80 ms to
// generate (far more under -race), and no test needs one of its own.
var rsaKeys = [...]func() *rsa.PrivateKey{
	sync.OnceValue(newRSAKey),
	sync.OnceValue(newRSAKey),
	sync.OnceValue(newRSAKey),
}

func newRSAKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("testkit: generating a 2048-bit RSA key: %v", err))
	}
	return k
}

// RSAKey returns the test binary's RSA signing key: the same 2048-bit key on every call, generated on the first.
func RSAKey() *rsa.PrivateKey { return rsaKeys[0]() }

// OtherRSAKey returns the i-th (1 or 2) further key, distinct from RSAKey and from each other, for tests that need
// a key the provider does not hold (a forger's) or one to rotate to. Each is generated once per test binary.
func OtherRSAKey(i int) *rsa.PrivateKey {
	if i < 1 || i >= len(rsaKeys) {
		panic(fmt.Sprintf("testkit: OtherRSAKey(%d): want 1 to %d", i, len(rsaKeys)-1))
	}
	return rsaKeys[i]()
}
