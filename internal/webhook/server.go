package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"k8s.io/client-go/util/cert"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
)

// Server serves the receiver over HTTPS on its own port, on every replica
// (it needs no leadership: it acts through the API server).
type Server struct {
	// Addr is the listen address, e.g. ":9443".
	Addr string
	// CertDir holds tls.crt and tls.key, reloaded when they change; empty
	// means a self-signed certificate (put a TLS-terminating Ingress in
	// front, as for any self-signed backend).
	CertDir string
	// EnableHTTP2 lets the server speak HTTP/2 (off: the Rapid Reset CVEs,
	// as for the metrics server).
	EnableHTTP2 bool
	Handler     http.Handler
}

// NeedLeaderElection is false: every replica receives.
func (s *Server) NeedLeaderElection() bool { return false }

// Start serves until ctx ends, then shuts down gracefully.
func (s *Server) Start(ctx context.Context) error {
	tlsConfig, err := s.tlsConfig(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("webhook receiver: %w", err)
	}
	srv := &http.Server{
		Handler: s.Handler, TLSConfig: tlsConfig,
		// Deliveries are small: a slow client must not hold a connection.
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second,
		MaxHeaderBytes: 32 << 10,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(tls.NewListener(ln, tlsConfig)) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			return err
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

func (s *Server) tlsConfig(ctx context.Context) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	if s.EnableHTTP2 {
		c.NextProtos = []string{"h2", "http/1.1"}
	}
	if s.CertDir != "" {
		w, err := certwatcher.New(filepath.Join(s.CertDir, "tls.crt"), filepath.Join(s.CertDir, "tls.key"))
		if err != nil {
			return nil, fmt.Errorf("webhook receiver certificate: %w", err)
		}
		go func() { _ = w.Start(ctx) }()
		c.GetCertificate = w.GetCertificate
		return c, nil
	}
	certPEM, keyPEM, err := cert.GenerateSelfSignedCertKey("verification-operator-webhook", nil, nil)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	c.Certificates = []tls.Certificate{pair}
	return c, nil
}
