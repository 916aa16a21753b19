package localappid

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// shutdownTimeout bounds a graceful Close.
const shutdownTimeout = 5 * time.Second

// Server is a Provider listening on a TCP address, for the demo, the idp command and tests.
type Server struct {
	provider *Provider
	srv      *http.Server
	url      string
	done     chan error

	closeOnce sync.Once
	closeErr  error
}

// Listen listens on addr (e.g. "127.0.0.1:0"), sets cfg.BaseURL to http://<bound address> when it is empty,
// builds the Provider and serves it until Close.
func Listen(addr string, cfg Config) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("localappid: listening on %s: %w", addr, err)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + ln.Addr().String()
	}
	p, err := New(cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{
		provider: p,
		url:      "http://" + ln.Addr().String(),
		done:     make(chan error, 1),
		srv: &http.Server{
			Handler:           p,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
		},
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Provider is the served provider (for RotateKey, URLs and the like).
func (s *Server) Provider() *Provider { return s.provider }

// URL is the bound address as http://host:port. The provider's public BaseURL may differ (Config.BaseURL).
func (s *Server) URL() string { return s.url }

// Close stops accepting connections and waits up to 5 s for requests in flight, and for back-channel logout calls,
// then closes the rest. Calling it again returns the first result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *Server) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	if waitErr := s.provider.notifier.wait(ctx); err == nil {
		err = waitErr
	}
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	if err != nil {
		return fmt.Errorf("localappid: closing the server: %w", err)
	}
	return nil
}
