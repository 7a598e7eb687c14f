package admin

import "testing"

// The console must find every address the public form accepts.
func TestSupporterEmailAcceptsWhatTheFormAccepts(t *testing.T) {
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{" Ann@Example.org ", "ann@example.org", true},
		{`"a b"@d.org`, `"a b"@d.org`, true},
		{"not-an-address", "", false},
		{"a@b.org\r\nx", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := supporterEmail(tt.raw)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("supporterEmail(%q) = %q, %v", tt.raw, got, err)
		}
	}
}
