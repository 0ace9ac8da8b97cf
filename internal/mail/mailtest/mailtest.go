// Package mailtest is an SMTP server on 127.0.0.1 for tests: it accepts
// every message (with or without AUTH PLAIN) and keeps it.
package mailtest

import (
	"bufio"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is a message the server accepted.
type Message struct {
	From, To string
	Data     string // headers and body, with CRLF line ends
	Auth     string // the AUTH PLAIN response, "" without AUTH
}

// Server is a running test SMTP server.
type Server struct {
	ln       net.Listener
	mu       sync.Mutex
	msgs     []Message
	received chan struct{}
}

// NewServer starts a server that stops when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln, received: make(chan struct{}, 100)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return s
}

// URL returns an smtp:// URL of the server with the given user info
// ("" for none) and from address.
func (s *Server) URL(userinfo, from string) string {
	if userinfo != "" {
		userinfo += "@"
	}
	return "smtp://" + userinfo + s.ln.Addr().String() + "?from=" + from
}

// Wait returns the messages once at least n arrived, or fails the test
// after a deadline.
func (s *Server) Wait(t testing.TB, n int) []Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		msgs := append([]Message(nil), s.msgs...)
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs
		}
		select {
		case <-s.received:
		case <-deadline:
			t.Fatalf("mailtest: %d messages after 10s, want %d", len(msgs), n)
		}
	}
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 mailtest ready")
	var m Message
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			tp.PrintfLine("250-mailtest\r\n250 AUTH PLAIN")
		case "AUTH":
			m.Auth = strings.TrimPrefix(arg, "PLAIN ")
			tp.PrintfLine("235 ok")
		case "MAIL":
			m.From = addr(arg)
			tp.PrintfLine("250 ok")
		case "RCPT":
			m.To = addr(arg)
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 go on")
			data, err := readData(tp.Reader.R)
			if err != nil {
				return
			}
			m.Data = data
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			s.received <- struct{}{}
			m = Message{}
			tp.PrintfLine("250 kept")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("250 ok")
		}
	}
}

func addr(arg string) string {
	_, a, _ := strings.Cut(arg, ":")
	return strings.Trim(a, "<> ")
}

func readData(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if line == ".\r\n" {
			return b.String(), nil
		}
		b.WriteString(strings.TrimPrefix(line, "."))
	}
}
