package mail_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/mail"
	"github.com/volleyhq/volley/internal/mail/mailtest"
)

func TestSend(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	s, err := mail.Parse(srv.URL("volley:s3cret", "volley@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), mail.Message{To: "Carol <carol@example.com>", Subject: "Join Acme", Body: "Hello\nhttps://x/invite/abc\n.leading dot"})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Wait(t, 1)[0]
	if m.From != "volley@example.com" || m.To != "carol@example.com" {
		t.Fatalf("envelope %s -> %s", m.From, m.To)
	}
	auth, _ := base64.StdEncoding.DecodeString(m.Auth)
	if string(auth) != "\x00volley\x00s3cret" {
		t.Fatalf("AUTH PLAIN %q", auth)
	}
	for _, want := range []string{"Subject: Join Acme\r\n", "To: carol@example.com\r\n", "\r\n\r\nHello\r\nhttps://x/invite/abc\r\n.leading dot"} {
		if !strings.Contains(m.Data, want) {
			t.Errorf("message lacks %q:\n%s", want, m.Data)
		}
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"http://mail.example.com?from=a@example.com",
		"smtp://?from=a@example.com",
		"smtp://mail.example.com",
		"smtp://mail.example.com?from=not-an-address",
	} {
		if _, err := mail.Parse(raw); err == nil {
			t.Errorf("Parse(%q) accepted it", raw)
		}
	}
}

func TestSendRejectsHeaderInjection(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	s, err := mail.Parse(srv.URL("", "volley@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), mail.Message{To: "a@example.com", Subject: "x\r\nBcc: b@example.com", Body: "y"}); err == nil {
		t.Fatal("a subject with a line break was sent")
	}
}
