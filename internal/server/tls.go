package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// DefaultTLSCheckEvery is how often, at most, the certificate files are
// checked for a change during handshakes.
const DefaultTLSCheckEvery = 5 * time.Second

// certFiles serves the certificate of a PEM certificate and key file pair,
// reloading it when either file's modification time or size changes: on a
// handshake at most every checkEvery, or at once on Reload (SIGHUP). A pair
// that fails to load (a renewal half written) keeps the previous
// certificate and is logged; the next check tries again.
type certFiles struct {
	certFile, keyFile string
	checkEvery        time.Duration
	now               func() time.Time
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]fileStamp // of the files the certificate was loaded from
	checked time.Time
}

// fileStamp is what tells that a file changed.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size()}, nil
}

// load reads the pair if it changed since the last load (or was never
// loaded), and reports whether it did.
func (c *certFiles) load() (bool, error) {
	var st [2]fileStamp
	var err error
	for i, p := range []string{c.certFile, c.keyFile} {
		if st[i], err = stampOf(p); err != nil {
			return false, fmt.Errorf("load TLS certificate: %w", err)
		}
	}
	if c.cert != nil && st == c.stamp {
		return false, nil
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return false, fmt.Errorf("load TLS certificate: %w", err)
	}
	c.cert, c.stamp = &cert, st
	return true, nil
}

// Reload checks the files now and loads them if they changed.
func (c *certFiles) Reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked = c.now()
	changed, err := c.load()
	if err != nil {
		return err
	}
	if changed {
		c.log.Info("TLS certificate loaded", "cert_file", c.certFile, "not_after", c.cert.Leaf.NotAfter)
	}
	return nil
}

// GetCertificate implements tls.Config.GetCertificate.
func (c *certFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	due := c.now().Sub(c.checked) >= c.checkEvery
	c.mu.Unlock()
	if due {
		if err := c.Reload(); err != nil {
			c.log.Warn("TLS certificate not reloaded; serving the previous one", "err", err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cert == nil {
		return nil, fmt.Errorf("no TLS certificate loaded from %s", c.certFile)
	}
	return c.cert, nil
}
