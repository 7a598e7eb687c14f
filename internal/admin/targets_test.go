package admin

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// Remove asks first (a page, no JavaScript needed); only the confirmed
// post changes the file.
func TestRemoveTargetAsksForConfirmation(t *testing.T) {
	e := newEnv(t)
	e.sign("ann@example.org") // a queued message to every target
	e.login()
	file, _ := os.ReadFile(e.tfile)
	r := e.post("/admin/targets/greg-peters/remove", nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Remove Greg Peters?") ||
		!strings.Contains(r.body, `name="confirm" value="yes"`) || !strings.Contains(r.body, "Deactivate instead") ||
		!strings.Contains(r.body, "<strong>1</strong> still queued") {
		t.Fatalf("first post: %d\n%s", r.status, r.body)
	}
	if _, ok := e.targets.Current().ByID("greg-peters"); !ok {
		t.Fatal("removed without confirmation")
	}
	if now, _ := os.ReadFile(e.tfile); string(now) != string(file) {
		t.Fatal("file changed without confirmation")
	}
	if r := e.post("/admin/targets/greg-peters/remove", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("confirmed remove: %d", r.status)
	}
	if _, ok := e.targets.Current().ByID("greg-peters"); ok {
		t.Fatal("not removed after confirmation")
	}
}

// A removed id is never given to another target, typed or suggested; an
// empty id is made from the name.
func TestTargetIDsAreSuggestedAndNeverReused(t *testing.T) {
	e := newEnv(t)
	e.login()
	add := func(id, name, email string) resp {
		t.Helper()
		return e.post("/admin/targets", url.Values{"id": {id}, "name": {name}, "title": {"VP"}, "email": {email},
			"salutation": {"Ms. X"}, "active": {"1"}})
	}
	if r := add("", "Zoë Müller-Lüdenscheidt", "zoe@netflix.com"); r.status != http.StatusSeeOther {
		t.Fatalf("add with an empty id: %d %s", r.status, r.body)
	}
	if _, ok := e.targets.Current().ByID("zoe-muller-ludenscheidt"); !ok {
		t.Fatalf("no id made from the name: %+v", e.targets.Current().All)
	}
	if r := e.post("/admin/targets/zoe-muller-ludenscheidt/remove", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.status)
	}
	// Typed again: refused, saying why.
	r := add("zoe-muller-ludenscheidt", "Zoe Other", "other@netflix.com")
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "belonged to a removed target (Zoë Müller-Lüdenscheidt)") {
		t.Fatalf("reused id: %d\n%s", r.status, r.body)
	}
	if _, ok := e.targets.Current().ByID("zoe-muller-ludenscheidt"); ok {
		t.Fatal("a removed id was reused")
	}
	// Suggested again from the same name: the next free one.
	if r := add("", "Zoë Müller-Lüdenscheidt", "zoe2@netflix.com"); r.status != http.StatusSeeOther {
		t.Fatalf("add: %d", r.status)
	}
	if _, ok := e.targets.Current().ByID("zoe-muller-ludenscheidt-2"); !ok {
		t.Fatalf("suggested id: %+v", e.targets.Current().All)
	}
	// An id only the send log knows (removed from the file by hand) is
	// refused too.
	e.sign("ann@example.org")
	if err := e.targets.Save(e.targets.Current().All[1:]); err != nil { // ted-sarandos removed by hand
		t.Fatal(err)
	}
	if r := add("ted-sarandos", "Ted Two", "ted2@netflix.com"); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.body, "messages in the send log") {
		t.Fatalf("id from the send log reused: %d", r.status)
	}
}

func TestIDFromName(t *testing.T) {
	for name, want := range map[string]string{
		"Ted Sarandos": "ted-sarandos", "  Bela   Bajaria ": "bela-bajaria", "Zoë Müller-Lüdenscheidt": "zoe-muller-ludenscheidt",
		"O'Brien, Pat (CEO)": "o-brien-pat-ceo", "李明": "", "Reed Hastings 2": "reed-hastings-2",
	} {
		if got := idFromName(name); got != want {
			t.Errorf("idFromName(%q) = %q, want %q", name, got, want)
		}
	}
}

// Deactivate, Remove and Pause sending look different, and in the add form
// the id comes right after the name, before title and email.
func TestTargetsPageActionsAndForm(t *testing.T) {
	e := newEnv(t)
	e.login()
	body := e.get("/admin/targets").body
	class := func(action string) string {
		m := regexp.MustCompile(`action="/admin/targets/ted-sarandos/` + action + `"[^>]*>.*?<button class="([^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s button:\n%s", action, body)
		}
		return m[1]
	}
	d, r, p := class("deactivate"), class("remove"), class("pause")
	if d == r || r == p || d == p {
		t.Errorf("Deactivate %q, Remove %q and Pause %q look alike", d, r, p)
	}
	add := body[strings.Index(body, `action="/admin/targets"`):]
	name, id, title := strings.Index(add, `id="t-name"`), strings.Index(add, `id="t-id"`), strings.Index(add, `id="t-title"`)
	if !(name >= 0 && name < id && id < title) {
		t.Errorf("add form order: name %d, id %d, title %d", name, id, title)
	}
	if strings.Contains(add[id:id+200], "required") {
		t.Error("the id is required: it cannot be made from the name")
	}
}

// A target whose server pushed back shows its reduced allowance and why on
// the targets page, and the step in its page's history (issue 28 §4).
func TestTargetPagesShowTheBackoff(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.run()
	e.sign("ann@example.org")
	var pub string
	waitFor(t, "the letter to ted-sarandos sent", func() bool {
		for _, m := range e.mailer.Sent() {
			if m.TargetID == "ted-sarandos" {
				pub = m.PublicID
			}
		}
		return pub != ""
	})
	if r := e.get("/admin/targets/ted-sarandos"); r.status != http.StatusOK || !strings.Contains(r.body, "Full allowance: 30 emails an hour") ||
		!strings.Contains(r.body, "never pushed back") {
		t.Fatalf("before: %d\n%s", r.status, r.body)
	}
	ctx := context.Background()
	if _, err := e.store.ApplyEvents(ctx, []sendlog.Event{{Event: "deferred", SGEventID: "d1", OutcryID: pub,
		Response: "421 4.7.0 try again later"}}); err != nil {
		t.Fatal(err)
	}
	// What the leading sender does at its renewal (this env's sender has no cap).
	if _, steps, err := e.store.StepPushback(ctx, 30, time.Now()); err != nil || len(steps) != 1 {
		t.Fatalf("step: %v %v", steps, err)
	}
	r := e.get("/admin/targets")
	if !strings.Contains(r.body, "slowed to 15 an hour") || !strings.Contains(r.body, "deferred: 421 4.7.0 try again later") {
		t.Fatalf("targets page:\n%s", r.body)
	}
	r = e.get("/admin/targets/ted-sarandos")
	if !strings.Contains(r.body, "Slowed to 15 emails an hour") || !strings.Contains(r.body, "<td>halved</td><td>15 an hour</td>") {
		t.Fatalf("target page:\n%s", r.body)
	}
}
