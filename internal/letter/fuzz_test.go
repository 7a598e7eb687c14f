package letter

import (
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outcry/outcry/internal/store"
)

// checkValid asserts what a valid submission guarantees to the rest of
// outcry: valid UTF-8, one-line fields without control characters (so no
// CR/LF can reach a header), and the limits.
func checkValid(t *testing.T, s *Submission) {
	t.Helper()
	for name, v := range map[string]string{"first_name": s.FirstName, "last_name": s.LastName, "email": s.Email, "postcode": s.Postcode, "subject": s.Subject} {
		if !utf8.ValidString(v) || strings.ContainsFunc(v, isSingleLineControl) {
			t.Fatalf("valid submission has a control character or bad UTF-8 in %s: %q", name, v)
		}
	}
	if !utf8.ValidString(s.Body) || strings.ContainsFunc(s.Body, isMultiLineControl) || strings.Contains(s.Body, "\r") {
		t.Fatalf("valid body holds control characters: %q", s.Body)
	}
	if utf8.RuneCountInString(s.Body) > MaxBody || utf8.RuneCountInString(s.Subject) > MaxSubject ||
		utf8.RuneCountInString(s.FirstName) > MaxName || utf8.RuneCountInString(s.LastName) > MaxName ||
		utf8.RuneCountInString(s.Email) > MaxEmail || utf8.RuneCountInString(s.Postcode) > MaxPostcode {
		t.Fatalf("valid submission over a limit: %+v", s)
	}
	if s.Email != NormalizeEmail(s.Email) || s.FirstName == "" || s.Body == "" || !s.AcceptPrivacy {
		t.Fatalf("valid submission not normalized or missing a required field: %+v", s)
	}
}

var knownFields = map[string]bool{"first_name": true, "last_name": true, "email": true, "postcode": true,
	"subject": true, "body": true, "accept_privacy": true}

func checkInvalid(t *testing.T, err error) {
	t.Helper()
	fe, ok := err.(FieldErrors)
	if !ok || len(fe) == 0 {
		t.Fatalf("invalid submission: %T %v, want FieldErrors", err, err)
	}
	for f, msg := range fe {
		if msg == "" || !knownFields[f] {
			t.Fatalf("field error %q: %q", f, msg)
		}
	}
}

// FuzzSubmissionJSON decodes a JSON letter as the API does and validates it.
func FuzzSubmissionJSON(f *testing.F) {
	f.Add([]byte(`{"first_name":"Ann","last_name":"Lee","email":"ann@example.org","subject":"S","body":"B","accept_privacy":true}`))
	f.Add([]byte(`{"first_name":"Ann\r\nBcc: x@example.com","last_name":"L","email":"a@b.c","subject":"S","body":"B","accept_privacy":true}`))
	f.Add([]byte("{\"first_name\":\"\xff\",\"email\":\"A@B.C \"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Submission
		if json.Unmarshal(data, &s) != nil {
			return
		}
		if err := s.Validate(); err != nil {
			checkInvalid(t, err)
			return
		}
		checkValid(t, &s)
	})
}

// FuzzSubmissionForm parses a URL-encoded form as the HTML handler does.
func FuzzSubmissionForm(f *testing.F) {
	f.Add("first_name=Ann&last_name=Lee&email=ann%40example.org&subject=S&body=B&accept_privacy=true")
	f.Add("first_name=%FF&last_name=%0D%0A&email=x&subject=%E2%80%A8&body=%00&accept_privacy=1")
	f.Add("first_name=Zo%C3%AB&last_name=%D0%98&email=Z%40EXAMPLE.ORG&subject=S&body=a%0D%0Ab&accept_privacy=on")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		s := FromForm(form)
		if err := s.Validate(); err != nil {
			checkInvalid(t, err)
			return
		}
		checkValid(t, &s)
	})
}

// FuzzRender renders hostile names and bodies: the body is printed as
// written (never run as a template), and nothing in a valid letter puts a
// CR or LF into a subject or a name.
func FuzzRender(f *testing.F) {
	f.Add("Ann", "Lee", "SW1A 1AA", "Stop", "Please stop.")
	f.Add("{{.Target.Email}}", "{{template \"x\"}}", "{{", "{{printf \"%s\" .}}", "{{.Target.Name}} {{end}} {{define \"a\"}}")
	f.Add("<script>alert(1)</script>", "&amp;", "\r\n", "Hi\r\nBcc: victim@example.com", "<b>bold</b>\r\n.\r\n")
	f.Add("Zoë", "محمد", "〒100", "日本語の件名", strings.Repeat("long line without breaks ", 300))
	f.Add("\xff\xfe", "\x00", "\u2028", "\xc3\x28", "\xed\xa0\x80 surrogate")
	r, err := NewRenderer(os.DirFS("../../templates"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, first, last, postcode, subject, body string) {
		// Raw, unvalidated: rendering never fails and never interprets the text.
		out, err := r.Render(Data{Target: Recipient{Salutation: "Mr. Sarandos"}, Supporter: Supporter{FirstName: first, LastName: last, Postcode: postcode}, Body: body})
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		if !strings.HasPrefix(out, "Dear Mr. Sarandos,\n\n") || !strings.Contains(out, strings.TrimSpace(body)) {
			t.Fatalf("body not printed as written:\n%q", out)
		}
		s := Submission{FirstName: first, LastName: last, Email: "a@example.org", Postcode: postcode, Subject: subject, Body: body, AcceptPrivacy: true}
		if s.Validate() != nil {
			return
		}
		// The copy as the outbox renders it at send time, from the
		// letter stored once and the target recorded at the claim.
		copyText, err := r.Copy(store.Copy{Subject: s.Subject, Body: s.Body, FirstName: s.FirstName, LastName: s.LastName,
			Postcode: s.Postcode, TargetName: "Ted", Title: "CEO", Salutation: "Mr. Sarandos"})
		if err != nil {
			t.Fatalf("render valid: %v", err)
		}
		if strings.ContainsAny(s.Subject, "\r\n") || strings.ContainsAny(s.FirstName+s.LastName+s.Postcode, "\r\n") {
			t.Fatalf("CR/LF in a subject or name: %q", s.Subject)
		}
		want := "Dear Mr. Sarandos,\n\n" + s.Body + "\n\nYours sincerely,\n\n" + strings.TrimSpace(s.FirstName+" "+s.LastName)
		if !strings.HasPrefix(copyText, want) {
			t.Fatalf("letter not rendered as written:\n got %q\nwant %q", copyText, want)
		}
	})
}
