package letter

import (
	"os"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/store"
)

func valid() Submission {
	return Submission{
		FirstName: "Ann", LastName: "Lee", Email: "ann@example.org", Postcode: "SW1A 1AA",
		Subject: "Stop Baby", Body: "Please stop.", AcceptPrivacy: true,
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Submission)
		field string // "" = valid
		msg   string // substring of the message
	}{
		{"valid", func(*Submission) {}, "", ""},
		{"valid without postcode", func(s *Submission) { s.Postcode = "" }, "", ""},
		{"any script", func(s *Submission) { s.FirstName, s.LastName, s.Body = "Zoë", "Ōtani 大谷", "Привет, мир" }, "", ""},
		{"missing first name", func(s *Submission) { s.FirstName = "  " }, "first_name", "Please enter your first name"},
		{"missing last name", func(s *Submission) { s.LastName = "" }, "last_name", "Please enter your last name"},
		{"missing email", func(s *Submission) { s.Email = "" }, "email", "Please enter your email"},
		{"bad email", func(s *Submission) { s.Email = "ann@" }, "email", "valid email address"},
		{"email with newline", func(s *Submission) { s.Email = "ann@example.org\r\nBcc: x@example.com" }, "email", ""},
		{"long first name", func(s *Submission) { s.FirstName = strings.Repeat("a", 101) }, "first_name", "100 characters or fewer"},
		{"long postcode", func(s *Submission) { s.Postcode = strings.Repeat("1", 21) }, "postcode", "20 characters"},
		{"empty subject", func(s *Submission) { s.Subject = "" }, "subject", "Please enter a subject"},
		{"subject at limit", func(s *Submission) { s.Subject = strings.Repeat("é", 200) }, "", ""},
		{"subject too long", func(s *Submission) { s.Subject = strings.Repeat("é", 201) }, "subject", "200 characters"},
		{"subject with CR", func(s *Submission) { s.Subject = "Hi\rBcc: x" }, "subject", "single line"},
		{"subject with LF", func(s *Submission) { s.Subject = "Hi\nthere" }, "subject", "single line"},
		{"name with NUL", func(s *Submission) { s.LastName = "Lee\x00" }, "last_name", "single line"},
		{"name with line separator", func(s *Submission) { s.FirstName = "A\u2028B" }, "first_name", "single line"},
		{"empty body", func(s *Submission) { s.Body = " \n " }, "body", "Please enter your letter"},
		{"body at limit", func(s *Submission) { s.Body = strings.Repeat("ж", 5000) }, "", ""},
		{"body too long", func(s *Submission) { s.Body = strings.Repeat("a", 5001) }, "body", "5000 characters"},
		{"body with newlines and tabs", func(s *Submission) { s.Body = "Line one\r\n\tLine two" }, "", ""},
		{"body with escape char", func(s *Submission) { s.Body = "hi \x1b[31m" }, "body", "control characters"},
		{"invalid utf-8", func(s *Submission) { s.Body = "bad \xff byte" }, "body", "not valid UTF-8"},
		{"invalid utf-8 in a name", func(s *Submission) { s.FirstName = "Ann\xc3" }, "first_name", "not valid UTF-8"},
		// Issue 16, item 7: invisible and direction controls in names and subject.
		{"right-to-left override in a name", func(s *Submission) { s.FirstName = "Ann\u202Egnp.exe" }, "first_name", "text-direction"},
		{"zero-width space in a name", func(s *Submission) { s.LastName = "L\u200Bee" }, "last_name", "invisible"},
		{"isolate in the subject", func(s *Submission) { s.Subject = "Stop \u2067it\u2069" }, "subject", "invisible"},
		{"BOM in the subject", func(s *Submission) { s.Subject = "\uFEFFStop" }, "subject", "invisible"},
		{"left-to-right mark in a postcode", func(s *Submission) { s.Postcode = "SW1\u200E" }, "postcode", "invisible"},
		{"soft hyphen in a name", func(s *Submission) { s.FirstName = "An\u00ADn" }, "first_name", "invisible"},
		{"zero-width joiner at the end of a name", func(s *Submission) { s.FirstName = "Ann\u200D" }, "first_name", "invisible"},
		{"Persian name with a non-joiner", func(s *Submission) { s.FirstName = "\u0645\u06CC\u200C\u0631\u0648" }, "", ""},
		{"body keeps direction marks", func(s *Submission) { s.Body = "\u05E9\u05DC\u05D5\u05DD \u200Fabc\u202B" }, "", ""},
		{"privacy not accepted", func(s *Submission) { s.AcceptPrivacy = false }, "accept_privacy", "privacy notice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			tt.edit(&s)
			err := s.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			fe, ok := err.(FieldErrors)
			if !ok {
				t.Fatalf("want FieldErrors, got %T %v", err, err)
			}
			if len(fe) != 1 || !strings.Contains(fe[tt.field], tt.msg) {
				t.Fatalf("errors = %v, want only %s containing %q", fe, tt.field, tt.msg)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	s := Submission{Email: "  Ann@Example.ORG ", FirstName: " Ann ", Body: "a\r\nb\rc"}
	s.Normalize()
	if s.Email != "ann@example.org" || s.FirstName != "Ann" || s.Body != "a\nb\nc" {
		t.Fatalf("normalized = %+v", s)
	}
}

func testRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := NewRenderer(os.DirFS("../../templates"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRenderGreetingAndSignature(t *testing.T) {
	r := testRenderer(t)
	tests := []struct {
		name      string
		salute    string
		sup       Supporter
		body      string
		wantStart string
		wantEnd   string
	}{
		{"with postcode", "Mr. Sarandos", Supporter{"Ann", "Lee", "SW1A 1AA"}, "Please stop.",
			"Dear Mr. Sarandos,\n\nPlease stop.\n\n", "Yours sincerely,\n\nAnn Lee\nSW1A 1AA\n"},
		{"without postcode", "Ms. Bajaria", Supporter{"Zoë", "Ōtani", ""}, "Bitte.",
			"Dear Ms. Bajaria,\n\nBitte.\n\n", "Yours sincerely,\n\nZoë Ōtani\n"},
		{"template directives are data", "Mr. Peters", Supporter{"{{.Target.Name}}", "<b>x</b>", ""}, "{{.Supporter.Postcode}} {{range}}",
			"Dear Mr. Peters,\n\n{{.Supporter.Postcode}} {{range}}\n\n", "{{.Target.Name}} <b>x</b>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Render(Data{Target: Recipient{Salutation: tt.salute}, Supporter: tt.sup, Body: tt.body})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, tt.wantStart) || !strings.HasSuffix(got, tt.wantEnd) {
				t.Fatalf("letter:\n%s\nwant start %q and end %q", got, tt.wantStart, tt.wantEnd)
			}
		})
	}
}

// Issue 27 item 13: a name with no visible letter (Braille blanks U+2800,
// which gave "⠀ ⠀ via outcry") and stacked combining marks are refused;
// real names with marks pass.
func TestBlankLookingNamesAndStackedMarks(t *testing.T) {
	zalgo := "A" + strings.Repeat("\u0301", 60)
	for name, edit := range map[string]func(*Submission){
		"braille first name": func(s *Submission) { s.FirstName = "\u2800" },
		"braille last name":  func(s *Submission) { s.LastName = "\u2800 \u2800" },
		"punctuation only":   func(s *Submission) { s.FirstName = "..." },
		"spaces and blanks":  func(s *Submission) { s.FirstName = "\u2800\u3000\u2800" },
		"braille subject":    func(s *Submission) { s.Subject = "\u2800\u2800\u2800" },
		"zalgo first name":   func(s *Submission) { s.FirstName = zalgo },
		"zalgo subject":      func(s *Submission) { s.Subject = "Stop " + zalgo },
		"zalgo postcode":     func(s *Submission) { s.Postcode = "1" + strings.Repeat("\u0300", 4) },
	} {
		s := valid()
		edit(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		} else if fe, ok := err.(FieldErrors); !ok || len(fe) != 1 {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, n := range []string{"Nguyê\u0323n", "Zoë", "李", "O'Brien", "José", "Ａnn", "A2", "🐝"} {
		s := valid()
		s.FirstName = n
		if err := s.Validate(); err != nil {
			t.Errorf("%q refused: %v", n, err)
		}
	}
}

// outcry db copy refuses rows over the limits the form keeps: the same numbers.
func TestCopyFieldLimitsAreTheForm(t *testing.T) {
	want := map[string]int{"first_name": MaxName, "last_name": MaxName, "email": MaxEmail, "postcode": MaxPostcode, "subject": MaxSubject, "body": MaxBody}
	for f, n := range want {
		if got := store.CopyFieldLimits["supporters"][f]; got != n {
			t.Errorf("store.CopyFieldLimits supporters.%s = %d, want %d", f, got, n)
		}
	}
}
