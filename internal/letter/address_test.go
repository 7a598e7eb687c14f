package letter

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

func TestNormalizeEmailAndKey(t *testing.T) {
	tests := []struct{ in, norm, key string }{
		{"  Ann@Example.ORG ", "ann@example.org", "ann@example.org"},
		{"dedupe+x@gmail.com", "dedupe+x@gmail.com", "dedupe@gmail.com"},
		{"de.dupe@gmail.com", "de.dupe@gmail.com", "dedupe@gmail.com"},
		{"De.Dupe+news@GoogleMail.com", "de.dupe+news@googlemail.com", "dedupe@gmail.com"},
		{"ｄｅｄｕｐｅ@ｇｍａｉｌ.ｃｏｍ", "dedupe@gmail.com", "dedupe@gmail.com"}, // fullwidth
		{"ann+tag@example.org", "ann+tag@example.org", "ann@example.org"},
		{"ann.lee@example.org", "ann.lee@example.org", "ann.lee@example.org"}, // dots count outside Gmail
		{"+only@example.org", "+only@example.org", "+only@example.org"},
		{"a+b+c@gmail.com.", "a+b+c@gmail.com.", "a@gmail.com"},
		{"...@gmail.com", "...@gmail.com", "...@gmail.com"},
		{"no-at-sign", "no-at-sign", "no-at-sign"},
	}
	for _, tt := range tests {
		n := NormalizeEmail(tt.in)
		if n != tt.norm {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, n, tt.norm)
		}
		if k := EmailKey(n); k != tt.key {
			t.Errorf("EmailKey(%q) = %q, want %q", n, k, tt.key)
		}
	}
}

func TestPlainAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"dedupe@gmail.com":           true,
		"иван@пример.рф":             true, // one script per part
		"ivan@пример.рф":             true,
		"d\u0435dupe@gmail.com":      false, // Cyrillic е among Latin letters
		"dedupe@gm\u0430il.com":      false, // Cyrillic а in the domain
		"dedu\u200Bpe@gmail.com":     false, // zero-width space
		"dedupe\u202E@gmail.com":     false, // right-to-left override
		"\uFEFFdedupe@gmail.com":     false,
		"山田たろう@example.jp":           true,
		"ann\u00AD@example.org":      false, // soft hyphen
		"ann\xff@example.org":        false,
		"ann.lee-2@mail.example.org": true,
	} {
		if got := plainAddress(addr); got != want {
			t.Errorf("plainAddress(%q) = %v, want %v", addr, got, want)
		}
	}
}

// Issue 16, item 6: the variants the probe used make one supporter (or are
// refused), and mail goes to the address as first typed.
func TestOnePersonOneSupporter(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DB(t, filepath.Join(t.TempDir(), "dedupe.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, err := target.NewRegistry("../../targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc := &Service{Store: st, Targets: reg, Renderer: testRenderer(t)}
	sign := func(email string) (Result, error) {
		s := valid()
		s.Email = email
		return svc.Sign(ctx, &campaign.Campaign{Slug: "c"}, &s)
	}
	if r, err := sign("dedupe@gmail.com"); err != nil || !r.Created {
		t.Fatalf("first: %+v %v", r, err)
	}
	for _, v := range []string{"dedupe+x@gmail.com", "de.dupe@gmail.com", "dedupe@googlemail.com", "ＤＥＤＵＰＥ@gmail.com", "De.Dupe+y@GoogleMail.com"} {
		r, err := sign(v)
		if err != nil || r.Created {
			t.Errorf("%q: created %v, err %v; want a repeat", v, r.Created, err)
		}
	}
	for _, v := range []string{"d\u0435dupe@gmail.com", "dedupe\u200B@gmail.com"} {
		_, err := sign(v)
		fe, ok := err.(FieldErrors)
		if !ok || !strings.Contains(fe["email"], "plain letters") {
			t.Errorf("%q: %v, want refused", v, err)
		}
	}
	if n, _ := st.SupporterCount(ctx, "c"); n != 1 {
		t.Fatalf("%d supporters, want 1", n)
	}
	recs, err := st.SupporterRecords(ctx, "dedupe@gmail.com", "")
	if err != nil || len(recs) != 1 {
		t.Fatalf("records: %v %v", recs, err)
	}
	// +tags elsewhere: one person; the stored address is the one typed.
	if r, _ := sign("ann+campaign@example.org"); !r.Created {
		t.Fatal("ann+campaign: not created")
	}
	if r, _ := sign("ann@example.org"); r.Created {
		t.Fatal("ann@ after ann+campaign@: created a second supporter")
	}
	if recs, _ := st.SupporterRecords(ctx, "ann+campaign@example.org", ""); len(recs) != 1 {
		t.Fatal("the address as typed is not what is stored")
	}
}

// Issue 27 item 10: quoted local parts are refused (each quoting of one
// mailbox made another supporter, and "victim+x"@ got the broken key
// "victim@…), and an IDN domain in Unicode or ASCII form is one domain.
func TestQuotedAndIDNAddresses(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DB(t, filepath.Join(t.TempDir(), "idn.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, err := target.NewRegistry("../../targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc := &Service{Store: st, Targets: reg, Renderer: testRenderer(t)}
	sign := func(email string) (Result, error) {
		s := valid()
		s.Email = email
		return svc.Sign(ctx, &campaign.Campaign{Slug: "c"}, &s)
	}
	if r, err := sign("victim@gmail.com"); err != nil || !r.Created {
		t.Fatalf("first: %+v %v", r, err)
	}
	for _, v := range []string{`"victim"@gmail.com`, `"\victim"@gmail.com`, `"vic\tim"@gmail.com`, `"victim+x"@gmail.com`, `"vic tim"@gmail.com`} {
		_, err := sign(v)
		if fe, ok := err.(FieldErrors); !ok || fe["email"] == "" {
			t.Errorf("%s: %v, want refused", v, err)
		}
	}
	if r, err := sign("x@xn--gmil-moa.com"); err != nil || !r.Created {
		t.Fatalf("x@xn--gmil-moa.com: %+v %v", r, err)
	}
	for _, v := range []string{"x@gmäil.com", "X@GMÄIL.COM", "x+y@gmäil.com"} {
		if r, err := sign(v); err != nil || r.Created {
			t.Errorf("%s: created %v, err %v; want a repeat of x@xn--gmil-moa.com", v, r.Created, err)
		}
	}
	if _, err := sign("x@xn--a.com"); err == nil {
		t.Error("an invalid punycode domain was taken")
	}
	if n, _ := st.SupporterCount(ctx, "c"); n != 2 {
		t.Fatalf("%d supporters, want 2", n)
	}
	if recs, _ := st.SupporterRecords(ctx, "x@xn--gmil-moa.com", ""); len(recs) != 1 {
		t.Fatal("the IDN address is not stored in its ASCII form")
	}
}

// FuzzEmailKey: the key is stable (a key is its own key), never longer than
// the address, valid UTF-8 for valid input, and keeps the domain's '@'.
func FuzzEmailKey(f *testing.F) {
	for _, s := range []string{"dedupe+x@gmail.com", "de.dupe@googlemail.com", "a@b", "@", "+@gmail.com", ".+.@gmail.com.", "ｄ@ｇ.com", "\xff@x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeEmail(s)
		if NormalizeEmail(n) != n {
			t.Fatalf("NormalizeEmail not stable: %q -> %q -> %q", s, n, NormalizeEmail(n))
		}
		k := EmailKey(n)
		if EmailKey(k) != k {
			t.Fatalf("EmailKey not stable: %q -> %q -> %q", n, k, EmailKey(k))
		}
		if len(k) > len(n) {
			t.Fatalf("key %q longer than %q", k, n)
		}
		if utf8.ValidString(n) && !utf8.ValidString(k) {
			t.Fatalf("key %q of valid %q is not UTF-8", k, n)
		}
		if strings.Contains(n, "@") != strings.Contains(k, "@") {
			t.Fatalf("key %q of %q lost or gained '@'", k, n)
		}
		_ = plainAddress(n)
		_ = plainName(s)
	})
}
