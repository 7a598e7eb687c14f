package privacy

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

const (
	email    = "zoë.private@example.org"
	first    = "Zoëtrope"
	last     = "Quillfeather"
	postcode = "ZZ9 9ZZ"
	text     = "My very personal letter about the series"
	subject  = "A unique subject line 8842"
)

func setup(t *testing.T) (*store.Store, string, *letter.Service) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.db")
	st, err := store.Open(context.Background(), pgtest.DB(t, path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r, err := letter.NewRenderer(osTemplates())
	if err != nil {
		t.Fatal(err)
	}
	reg := target.NewStatic([]target.Target{
		{ID: "t1", Name: "Ted", Title: "CEO", Email: "ted@example.com", Salutation: "Mr. Ted", Active: true},
		{ID: "t2", Name: "Greg", Title: "CEO", Email: "greg@example.com", Salutation: "Mr. Greg", Active: true},
	})
	return st, path, &letter.Service{Store: st, Targets: reg, Renderer: r}
}

func sign(t *testing.T, svc *letter.Service, addr, body string) letter.Result {
	t.Helper()
	sub := &letter.Submission{
		FirstName: first, LastName: last, Email: addr, Postcode: postcode,
		Subject: subject, Body: body, AcceptPrivacy: true, ConsentUpdates: true,
	}
	if !strings.Contains(addr, "zo") {
		sub.FirstName, sub.LastName, sub.Postcode, sub.Subject = "Other", "Person", "", "Other subject"
	}
	res, err := svc.Sign(context.Background(), &campaign.Campaign{Slug: "c"}, sub)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// textHits searches every TEXT column of every table for each needle.
func textHits(t *testing.T, path string, needles ...string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		tables.Scan(&n)
		names = append(names, n)
	}
	tables.Close()
	var hits []string
	columns := 0
	for _, tbl := range names {
		cols, err := db.Query(`SELECT name, type FROM pragma_table_info(?)`, tbl)
		if err != nil {
			t.Fatal(err)
		}
		var textCols []string
		for cols.Next() {
			var n, typ string
			cols.Scan(&n, &typ)
			if strings.EqualFold(typ, "TEXT") {
				textCols = append(textCols, n)
			}
		}
		cols.Close()
		for _, col := range textCols {
			columns++
			for _, needle := range needles {
				var n int
				q := `SELECT COUNT(*) FROM "` + tbl + `" WHERE instr(lower("` + col + `"), lower(?)) > 0`
				if err := db.QueryRow(q, needle).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n > 0 {
					hits = append(hits, tbl+"."+col+" holds "+needle)
				}
			}
		}
	}
	if columns < 20 {
		t.Fatalf("searched only %d text columns", columns)
	}
	return hits
}

func TestEraseLeavesNoTrace(t *testing.T) {
	pgtest.SQLiteOnly(t) // searches the SQLite file
	ctx := context.Background()
	st, path, svc := setup(t)
	sign(t, svc, "  ZOË.private@Example.org ", text)
	sign(t, svc, "other@example.org", "Someone else's letter")
	// One message of ours was sent and has a delivery event with free text.
	claimed, err := st.Claim(ctx, "test", 1, allTargets(1))
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %d", err, len(claimed))
	}
	if err := st.FinishLeased(ctx, "", []delivery.Outcome{{ID: claimed[0].ID, Status: "sent", Attempted: true, ProviderID: "p1", Error: "mailbox " + email + " was slow"}}); err != nil {
		t.Fatal(err)
	}
	if hits := textHits(t, path, email, first, last, text); len(hits) == 0 {
		t.Fatal("the search finds nothing even before erasing: it cannot fail")
	}
	p := &Service{Store: st}
	before, err := p.Export(ctx, email)
	if err != nil || len(before.Supporters) != 1 || len(before.Supporters[0].Messages) != 2 {
		t.Fatalf("export before erase: %v %+v", err, before)
	}
	n, err := p.Erase(ctx, " Zoë.Private@example.org")
	if err != nil || n != 1 {
		t.Fatalf("erase = %d, %v", n, err)
	}
	if hits := textHits(t, path, email, first, last, postcode, text, subject, "Dear Mr. Ted,\n\n"+text); len(hits) > 0 {
		t.Fatalf("erase left traces: %v", hits)
	}
	// Counts, the other supporter and the send log stay.
	if c, _ := st.SupporterCount(ctx, "c"); c != 2 {
		t.Fatalf("count = %d, want 2", c)
	}
	counts, _ := st.StatusCounts(ctx, "c")
	if counts["sent"] != 1 || counts["cancelled"] != 1 || counts["queued"] != 2 {
		t.Fatalf("statuses after erase = %v, want 1 sent, 1 cancelled (ours) and 2 queued (the other's)", counts)
	}
	if hits := textHits(t, path, "Someone else's letter"); len(hits) == 0 {
		t.Fatal("erase removed another supporter's letter")
	}
	// A repeat of the erased address is still a repeat.
	if res := sign(t, svc, email, "again"); res.Created {
		t.Fatal("the erased address could write again: dedupe lost")
	}
	if c, _ := st.SupporterCount(ctx, "c"); c != 2 {
		t.Fatalf("count after repeat = %d", c)
	}
	after, err := p.Export(ctx, email)
	if err != nil || len(after.Supporters) != 0 {
		t.Fatalf("export after erase: %+v", after)
	}
	if n, err := p.Erase(ctx, email); err != nil || n != 0 {
		t.Fatalf("second erase = %d, %v", n, err)
	}
}

func TestExportHoldsEverything(t *testing.T) {
	ctx := context.Background()
	st, _, svc := setup(t)
	sign(t, svc, email, text)
	exp, err := (&Service{Store: st}).Export(ctx, strings.ToUpper(email))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(exp)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"email":"` + email + `"`, `"first_name":"` + first + `"`, `"postcode":"` + postcode + `"`,
		`"consent_version":"updates-v1"`, `"privacy_version":"privacy-v1"`, `"created_at":`, `"target_id":"t1"`, `"target_id":"t2"`,
		`"status":"queued"`, `"events":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("export lacks %s", want)
		}
	}
	if !strings.Contains(exp.Supporters[0].Messages[0].Body, text) {
		t.Error("export lacks the letter text")
	}
}

// allTargets asks a claim for up to limit messages of each bundled target.
func allTargets(limit int) []store.ClaimTarget {
	var out []store.ClaimTarget
	for _, id := range []string{"t1", "t2", "t3", "t4"} {
		out = append(out, store.ClaimTarget{ID: id, Email: id + "@example.com", Name: id, Limit: limit})
	}
	return out
}

// Issue 16, item 6: a data request with any variant of an address (a
// +tag, Gmail dots) finds and erases the supporter stored under another
// variant, and after the erase a variant is still a repeat.
func TestDataRequestsFollowVariants(t *testing.T) {
	pgtest.SQLiteOnly(t) // searches the SQLite file
	ctx := context.Background()
	st, path, svc := setup(t)
	sign(t, svc, "zo.private+petition@gmail.com", text)
	p := &Service{Store: st}
	exp, err := p.Export(ctx, "ZoPrivate@googlemail.com")
	if err != nil || len(exp.Supporters) != 1 || exp.Supporters[0].Email != "zo.private+petition@gmail.com" {
		t.Fatalf("export by a variant: %v %+v", err, exp)
	}
	if n, err := p.Erase(ctx, "zoprivate@gmail.com"); err != nil || n != 1 {
		t.Fatalf("erase by a variant = %d, %v", n, err)
	}
	if hits := textHits(t, path, "zo.private", "zoprivate", text); len(hits) > 0 {
		t.Fatalf("erase left traces: %v", hits)
	}
	for _, v := range []string{"zo.private+petition@gmail.com", "z.o.private@gmail.com", "zoprivate+x@googlemail.com"} {
		if res := sign(t, svc, v, "again"); res.Created {
			t.Fatalf("%s after the erase: a new supporter", v)
		}
	}
}
