package main

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

// TestServeTLSReloadsOnSIGHUP runs the real binary with --tls-cert and
// --tls-key: it serves HTTPS over HTTP/2, and after the files are renewed
// a SIGHUP loads them before any handshake could have (the log says so
// before the next connection), so the next client sees the new
// certificate without a restart.
func TestServeTLSReloadsOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the TLS serve test in -short mode: it builds and runs the volley binary")
	}
	t.Parallel()
	ca := testserver.NewCA(t, "Volley test CA")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	issue := func(cn string) {
		t.Helper()
		_, c, k := ca.Issue(t, cn)
		if err := os.WriteFile(certFile, c, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, k, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	issue("first")

	bin := buildVolley(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	log := &lockedBuffer{}
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", t.TempDir(), "--log-level", "info")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VOLLEY_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "VOLLEY_TLS_CERT="+certFile, "VOLLEY_TLS_KEY="+keyFile)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}, ForceAttemptHTTP2: true}}
	t.Cleanup(client.CloseIdleConnections)
	served := func() (string, error) {
		client.CloseIdleConnections() // a new handshake each time
		resp, err := client.Get("https://" + addr + "/healthz")
		if err != nil {
			return "", err
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("served over %s, want HTTP/2", resp.Proto)
		}
		return resp.TLS.PeerCertificates[0].Subject.CommonName, nil
	}
	waitFor(t, "volley serve to answer over HTTPS", func() bool {
		select {
		case <-exited:
			t.Fatalf("volley serve exited: %v\n%s", cmd.ProcessState, log.String())
		default:
		}
		cn, err := served()
		return err == nil && cn == "first"
	})

	loaded := strings.Count(log.String(), "TLS certificate loaded")
	// Distinct modification times even on a coarse file system clock.
	issue("second")
	later := time.Now().Add(time.Minute)
	for _, f := range []string{certFile, keyFile} {
		if err := os.Chtimes(f, later, later); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the certificate reloaded on SIGHUP", func() bool {
		return strings.Count(log.String(), "TLS certificate loaded") > loaded
	})
	if cn, err := served(); err != nil || cn != "second" {
		t.Fatalf("after SIGHUP: serving %q (%v), want second", cn, err)
	}
}
