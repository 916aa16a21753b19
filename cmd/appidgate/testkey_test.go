package main

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
)

// testSigningKey is the signing key of the providers these tests build themselves, generated once: a 2048-bit
// RSA key takes about 80 ms to generate (far more under -race). The demo's embedded provider makes its own.
var testSigningKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})
