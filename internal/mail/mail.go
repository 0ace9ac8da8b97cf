// Package mail sends Volley's few emails (invitations) through an SMTP
// server named by a URL. Volley needs no mail server: without one, the
// links are shown to whoever created them.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Sender sends mail through one SMTP server.
type Sender struct {
	addr     string // host:port
	host     string
	implicit bool // TLS from the first byte (smtps://), else STARTTLS when offered
	auth     smtp.Auth
	from     string
	// TLSConfig is used for TLS to the server; nil verifies it against the
	// system roots.
	TLSConfig *tls.Config
}

// Parse reads an SMTP URL:
//
//	smtp://user:password@host:587?from=volley@example.com   (STARTTLS when the server offers it)
//	smtps://user:password@host:465?from=volley@example.com  (TLS from the start)
//
// The user and password are optional; from is required. Credentials are
// only sent over TLS, or to a server on loopback.
func Parse(raw string) (*Sender, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	s := &Sender{host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.implicit = true
	default:
		return nil, fmt.Errorf("smtp url: scheme must be smtp or smtps, got %q", u.Scheme)
	}
	if s.host == "" {
		return nil, errors.New("smtp url: no host")
	}
	port := u.Port()
	if port == "" {
		port = map[bool]string{false: "587", true: "465"}[s.implicit]
	}
	s.addr = net.JoinHostPort(s.host, port)
	from, err := mail.ParseAddress(u.Query().Get("from"))
	if err != nil {
		return nil, fmt.Errorf("smtp url: from: %w", err)
	}
	s.from = from.Address
	if user := u.User.Username(); user != "" {
		pw, _ := u.User.Password()
		s.auth = smtp.PlainAuth("", user, pw, s.host)
	}
	return s, nil
}

// Message is one email, plain text.
type Message struct {
	To      string
	Subject string
	Body    string
}

// Send delivers m, giving up when ctx ends.
func (s *Sender) Send(ctx context.Context, m Message) error {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("send mail: to: %w", err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("send mail: subject spans lines")
	}
	if err := s.send(ctx, to.Address, m); err != nil {
		return fmt.Errorf("send mail via %s: %w", s.addr, err)
	}
	return nil
}

func (s *Sender) send(ctx context.Context, to string, m Message) error {
	tlsCfg := s.TLSConfig
	if tlsCfg == nil {
		tlsCfg = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	} else {
		conn.SetDeadline(time.Now().Add(time.Minute))
	}
	if s.implicit {
		conn = tls.Client(conn, tlsCfg)
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !s.implicit {
		if err := c.StartTLS(tlsCfg); err != nil {
			return err
		}
	}
	if s.auth != nil {
		if err := c.Auth(s.auth); err != nil {
			return err
		}
	}
	if err := c.Mail(s.from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	msg := "From: " + s.from + "\r\nTo: " + to + "\r\nSubject: " + m.Subject +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) +
		"\r\n\r\n" + strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
