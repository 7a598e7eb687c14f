package reply

import (
	"bytes"
	"mime/multipart"
	"os"
	"strings"
	"testing"
)

// sample reads one of SendGrid's own Inbound Parse payloads
// (testdata/sendgrid-python/SOURCE.md).
func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/sendgrid-python/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(t testing.TB, body []byte, boundary string) Inbound {
	t.Helper()
	in, err := ParseForm(multipart.NewReader(bytes.NewReader(body), boundary))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestParseSendGridSamples(t *testing.T) {
	for _, tc := range []struct {
		file, subject, to string
		raw               bool
		attachments       []string
	}{
		{file: "default_data.txt", subject: "Testing non-raw", to: "inbound@inbound.example.com"},
		{file: "raw_data.txt", subject: "Inbound Parse Test Raw Data", to: "inbound@inbound.inbound.com", raw: true},
		{file: "raw_data_with_attachments.txt", subject: "Inbound Parse Test Raw Data with Attachment", to: "inbound@inbound.inbound.com",
			raw: true, attachments: []string{"SendGrid.jpg"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			in := parse(t, sample(t, tc.file), "xYzZY")
			if in.Raw != tc.raw {
				t.Errorf("raw = %v, want %v", in.Raw, tc.raw)
			}
			if in.Subject != tc.subject {
				t.Errorf("subject %q, want %q", in.Subject, tc.subject)
			}
			if in.From == nil || in.From.Address != "test@example.com" || in.From.Name != "Example User" {
				t.Errorf("from %v", in.From)
			}
			if len(in.To) != 1 || in.To[0] != tc.to {
				t.Errorf("to %v, want %s (the envelope's)", in.To, tc.to)
			}
			if strings.TrimSpace(in.Text) != "Hello Twilio SendGrid!" {
				t.Errorf("text %q", in.Text)
			}
			if in.EnvelopeFrom != "test@example.com" || in.NullSender {
				t.Errorf("envelope from %q null %v", in.EnvelopeFrom, in.NullSender)
			}
			var names []string
			for _, a := range in.Attachments {
				names = append(names, a.Name)
				if a.Size <= 0 {
					t.Errorf("attachment %s size %d", a.Name, a.Size)
				}
			}
			if strings.Join(names, ",") != strings.Join(tc.attachments, ",") {
				t.Errorf("attachments %v, want %v", names, tc.attachments)
			}
			if auto, why := Automatic(in); auto {
				t.Errorf("a person's mail taken as automatic: %s", why)
			}
		})
	}
}

// formBody builds a parsed-format post (as SendGrid sends it) from fields.
func formBody(t testing.TB, fields [][2]string) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	return b.Bytes(), w.Boundary()
}

// The parsed format passes each field in the charset "charsets" names.
func TestParseCharsets(t *testing.T) {
	latin1 := func(s string) string { // UTF-8 → ISO-8859-1 bytes
		var b []byte
		for _, r := range s {
			b = append(b, byte(r))
		}
		return string(b)
	}
	body, boundary := formBody(t, [][2]string{
		{"headers", "From: =?ISO-8859-1?Q?Fran=E7oise_M=FCller?= <fm@parliament.example>\r\nSubject: =?ISO-8859-1?Q?R=E9ponse?=\r\n"},
		{"from", "=?ISO-8859-1?Q?Fran=E7oise_M=FCller?= <fm@parliament.example>"},
		{"subject", latin1("Réponse à votre lettre")},
		{"text", latin1("Chère Madame, merci. Ça marche, à bientôt.")},
		{"html", "<p>ignored</p>"},
		{"to", "abc@reply.example.org"},
		{"envelope", `{"to":["abc@reply.example.org"],"from":"fm@parliament.example"}`},
		{"charsets", `{"to":"UTF-8","html":"iso-8859-1","subject":"iso-8859-1","from":"UTF-8","text":"iso-8859-1"}`},
		{"spam_score", "0.3"},
	})
	in := parse(t, body, boundary)
	if in.Subject != "Réponse à votre lettre" {
		t.Errorf("subject %q", in.Subject)
	}
	if in.Text != "Chère Madame, merci. Ça marche, à bientôt." {
		t.Errorf("text %q", in.Text)
	}
	if in.From == nil || in.From.Name != "Françoise Müller" {
		t.Errorf("from %+v", in.From)
	}
	if in.SpamScore == nil || *in.SpamScore != 0.3 {
		t.Errorf("spam score %v", in.SpamScore)
	}
}

// Raw: encoded words, a quoted-printable ISO-8859-1 body, a base64
// windows-1252 one, HTML reduced to text when there is no text part.
func TestParseRawCharsets(t *testing.T) {
	email := "From: =?UTF-8?B?SsO8cmdlbg==?= <j@parliament.example>\r\n" +
		"To: tok@reply.example.org\r\n" +
		"Subject: =?ISO-8859-1?Q?Antwort_f=FCr_Sie?=\r\n" +
		"Content-Type: text/plain; charset=ISO-8859-1\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Sehr geehrte Frau M=FCller,=\r\nvielen Dank.\r\n"
	body, boundary := formBody(t, [][2]string{{"email", email}, {"envelope", `{"to":["tok@reply.example.org"],"from":"j@parliament.example"}`}})
	in := parse(t, body, boundary)
	if in.Subject != "Antwort für Sie" || in.From == nil || in.From.Name != "Jürgen" {
		t.Errorf("subject %q from %+v", in.Subject, in.From)
	}
	if in.Text != "Sehr geehrte Frau Müller,vielen Dank.\n" {
		t.Errorf("text %q", in.Text)
	}

	email = "From: a@b.example\r\nTo: tok@reply.example.org\r\nSubject: html only\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=XX\r\n\r\n" +
		"--XX\r\nContent-Type: text/html; charset=windows-1252\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"PHA+VGhhbmsgeW91IJZ3ZSByZWFkIGl0LjwvcD48c2NyaXB0PmV2aWwoKTwvc2NyaXB0PjxwPkJ5ZTwvcD4=\r\n--XX--\r\n"
	body, boundary = formBody(t, [][2]string{{"email", email}})
	in = parse(t, body, boundary)
	if in.Text != "Thank you –we read it.\n\nBye" { // 0x96 is windows-1252 en dash; the script is dropped
		t.Errorf("html reduced to %q", in.Text)
	}
	if len(in.To) != 1 || in.To[0] != "tok@reply.example.org" {
		t.Errorf("to %v (from the header when there is no envelope)", in.To)
	}
}

func TestAutomatic(t *testing.T) {
	base := "From: x@y.example\r\nTo: t@reply.example.org\r\nSubject: Re: your letter\r\n"
	for _, tc := range []struct {
		name, headers, envelopeFrom string
		auto                        bool
	}{
		{"person", "", "x@y.example", false},
		{"Auto-Submitted: no", "Auto-Submitted: no\r\n", "x@y.example", false},
		{"Auto-Submitted: auto-replied", "Auto-Submitted: auto-replied\r\n", "x@y.example", true},
		{"Auto-Submitted: auto-generated; owner", "Auto-Submitted: auto-generated; owner-email=a@b\r\n", "x@y.example", true},
		{"X-Autoreply", "X-Autoreply: yes\r\n", "x@y.example", true},
		{"X-Autorespond", "X-Autorespond: vacation\r\n", "x@y.example", true},
		{"Precedence: bulk", "Precedence: bulk\r\n", "x@y.example", true},
		{"Precedence: auto_reply", "Precedence: auto_reply\r\n", "x@y.example", true},
		{"Precedence: list", "Precedence: list\r\n", "x@y.example", true},
		{"null envelope sender", "", "", true},
		{"Return-Path: <>", "Return-Path: <>\r\n", "x@y.example", true},
		{"Exchange subject", "Subject: Automatic reply: your letter\r\n", "x@y.example", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.headers + base
			body, boundary := formBody(t, [][2]string{{"headers", h}, {"from", "x@y.example"}, {"text", "hi"},
				{"envelope", `{"to":["t@reply.example.org"],"from":"` + tc.envelopeFrom + `"}`}})
			in := parse(t, body, boundary)
			if auto, why := Automatic(in); auto != tc.auto {
				t.Errorf("automatic = %v (%s), want %v", auto, why, tc.auto)
			}
		})
	}
}

// Text beyond what is kept is read past, not kept.
func TestParseKeepsBoundedText(t *testing.T) {
	long := strings.Repeat("a", MaxText+1000)
	body, boundary := formBody(t, [][2]string{{"text", long}, {"subject", "s"}})
	in := parse(t, body, boundary)
	if len(in.Text) != MaxText {
		t.Fatalf("kept %d bytes of text, want %d", len(in.Text), MaxText)
	}
}

func FuzzParseForm(f *testing.F) {
	for _, n := range []string{"default_data.txt", "raw_data.txt", "raw_data_with_attachments.txt"} {
		f.Add(sample(f, n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := ParseForm(multipart.NewReader(bytes.NewReader(b), "xYzZY"))
		if err != nil {
			return
		}
		if len(in.Text) > MaxText {
			t.Fatalf("kept %d bytes of text", len(in.Text))
		}
		Automatic(in)
	})
}
