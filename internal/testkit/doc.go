// Package testkit holds what this module's tests need again and again, so that each test says what it checks and
// not how to build a clock or a browser: a clock tests move by hand, a buffer a running server and the test may
// share, RSA keys generated once per test binary, and a cookie-keeping HTTP client that signs in on localappid's
// login page as a person would.
//
// It also starts and stops the real binary cleanly (CleanEnv, Terminate).
//
// It is for tests only: nothing outside _test.go files imports it.
package testkit
