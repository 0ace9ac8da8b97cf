package signature

import (
	"strings"
	"testing"
	"time"
)

// swHeader returns webhook-* headers (or svix-* when family is "svix-").
func swHeader(family, id, ts, sig string) map[string]string {
	return map[string]string{family + "id": id, family + "timestamp": ts, family + "signature": sig}
}

func TestVerifyStandardWebhooks(t *testing.T) {
	t.Parallel()
	const tsA = "1614265330"
	nowA := time.Unix(vecATS, 0)
	hmacA := Verifier{Scheme: StandardWebhooks, Secret: []byte(vecASecret)}
	edC := Verifier{Scheme: StandardWebhooks, Secret: []byte("whpk_" + vecCPublic)}
	wrongSig := Sign([][]byte{mustKey(t, vecBSecret)}, vecAID, vecATS, []byte(vecABody))
	h := func(kv ...string) map[string]string {
		m := swHeader("webhook-", vecAID, tsA, vecASig)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	toHeader := func(m map[string]string) []string {
		var kv []string
		for k, v := range m {
			kv = append(kv, k, v)
		}
		return kv
	}
	row := func(name string, v Verifier, m map[string]string, body string, now time.Time, wantErr error, wantMsg string) verifyCase {
		return verifyCase{name, v, header(toHeader(m)...), body, now, wantErr, wantMsg}
	}

	runVerifyCases(t, []verifyCase{
		row("vector A", hmacA, h(), vecABody, nowA, nil, ""),
		row("vector B", Verifier{Scheme: StandardWebhooks, Secret: []byte(vecBSecret)},
			swHeader("webhook-", vecBID, "1649367553", vecBSig), vecBBody, time.Unix(vecBTS, 0), nil, ""),
		row("vector C v1a", edC, h("webhook-signature", vecCSig), vecABody, nowA, nil, ""),
		row("bare base64 secret", Verifier{Scheme: StandardWebhooks, Secret: []byte(strings.TrimPrefix(vecASecret, "whsec_"))},
			h(), vecABody, nowA, nil, ""),
		row("svix spelling", hmacA, swHeader("svix-", vecAID, tsA, vecASig), vecABody, nowA, nil, ""),
		row("rotation second matches", hmacA, h("webhook-signature", wrongSig+" "+vecASig), vecABody, nowA, nil, ""),
		row("unknown version ignored", hmacA, h("webhook-signature", "v2,Zm9v "+vecASig), vecABody, nowA, nil, ""),
		row("v1 and v1a, HMAC secret", hmacA, h("webhook-signature", vecCSig+" "+vecASig), vecABody, nowA, nil, ""),
		row("v1 and v1a, public key", edC, h("webhook-signature", vecASig+" "+vecCSig), vecABody, nowA, nil, ""),
		row("extra spaces and odd entries", hmacA, h("webhook-signature", "  junk  v1, "+vecASig+"  "), vecABody, nowA, nil, ""),
		row("edge of tolerance", hmacA, h(), vecABody, nowA.Add(5*time.Minute), nil, ""),
		row("custom tolerance", Verifier{Scheme: StandardWebhooks, Secret: []byte(vecASecret), Tolerance: time.Hour},
			h(), vecABody, nowA.Add(30*time.Minute), nil, ""),

		row("wrong secret", Verifier{Scheme: StandardWebhooks, Secret: []byte(vecBSecret)}, h(), vecABody, nowA,
			ErrMismatch, "none of 1 v1 signatures matched"),
		row("tampered body", hmacA, h(), vecABody+" ", nowA, ErrMismatch, "none of 1 v1"),
		row("tampered id", hmacA, h("webhook-id", vecAID+"x"), vecABody, nowA, ErrMismatch, ""),
		row("v1a tampered body", edC, h("webhook-signature", vecCSig), vecABody+" ", nowA, ErrMismatch, "none of 1 v1a"),
		row("missing signature", hmacA, h("webhook-signature", ""), vecABody, nowA, ErrMissing, "no webhook-signature or svix-signature"),
		row("missing id", hmacA, h("webhook-id", ""), vecABody, nowA, ErrMissing, "no webhook-id header"),
		row("missing timestamp", hmacA, h("webhook-timestamp", ""), vecABody, nowA, ErrMissing, "no webhook-timestamp header"),
		row("families not mixed", hmacA, map[string]string{"svix-id": vecAID, "svix-timestamp": tsA, "webhook-signature": vecASig},
			vecABody, nowA, ErrMissing, "no webhook-id"),
		row("malformed signature list", hmacA, h("webhook-signature", "garbage"), vecABody, nowA, ErrMalformed, "version,signature"),
		row("v1 not base64", hmacA, h("webhook-signature", "v1,***"), vecABody, nowA, ErrMalformed, "not standard base64"),
		row("malformed timestamp", hmacA, h("webhook-timestamp", "yesterday"), vecABody, nowA, ErrMalformed, "not Unix seconds"),
		row("expired", hmacA, h(), vecABody, nowA.Add(5*time.Minute+time.Second), ErrExpired, "is 5m1s ago"),
		row("future", hmacA, h(), vecABody, nowA.Add(-time.Hour), ErrExpired, "is 1h0m0s in the future"),
		row("expired svix", hmacA, swHeader("svix-", vecAID, tsA, vecASig), vecABody, nowA.Add(time.Hour), ErrExpired, ""),
		row("v1a only with HMAC secret", hmacA, h("webhook-signature", vecCSig), vecABody, nowA,
			ErrMismatch, "no v1 signature (found v1a) and the secret is a whsec_ HMAC secret"),
		row("v1 only with public key", edC, h(), vecABody, nowA,
			ErrMismatch, "no v1a signature (found v1) and the secret is a whpk_ ed25519 public key"),
		row("unknown version only", hmacA, h("webhook-signature", "v9,Zm9v"), vecABody, nowA, ErrMismatch, "found v9"),
		row("v1a wrong length", edC, h("webhook-signature", "v1a,Zm9v"), vecABody, nowA, ErrMismatch, ""),
	})
}

func TestParseSignatureList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []versionedSignature
		wantErr bool
	}{
		{"v1,abc", []versionedSignature{{"v1", "abc"}}, false},
		{"v1,abc v1a,def", []versionedSignature{{"v1", "abc"}, {"v1a", "def"}}, false},
		{"v1,a,b", []versionedSignature{{"v1", "a,b"}}, false},
		{" v1,abc\tx ,y v2, ", []versionedSignature{{"v1", "abc"}}, false},
		{"", nil, true},
		{"   ", nil, true},
		{"v1", nil, true},
		{"v1, abc", nil, true}, // the space splits the entry into "v1," and "abc"
	}
	for _, tt := range tests {
		got, err := parseSignatureList(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseSignatureList(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("parseSignatureList(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("parseSignatureList(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}
