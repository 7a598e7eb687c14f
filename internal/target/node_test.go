package target

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Saving from the console keeps the file's comments (the bundled file warns
// that its addresses are placeholders), the order of the targets and of
// their fields, and changes only the lines that changed.
func TestSaveKeepsCommentsAndOrder(t *testing.T) {
	bundled, err := os.ReadFile("../../targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "targets.yaml")
	if err := os.WriteFile(path, bundled, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := NewRegistry(path)
	if err != nil {
		t.Fatal(err)
	}
	// Saving the same list writes the same bytes.
	if err := r.Save(r.Current().All); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(bundled) {
		t.Fatalf("saving an unchanged list changed the file:\n%s", got)
	}

	// An edit, a deactivation, a removal and an addition.
	err = r.Update(func(all []Target) ([]Target, error) {
		all[1].Title = "Chief Product Officer: Netflix" // needs quoting
		all[2].Active = false
		all = append(all[:3], Target{ID: "new-one", Name: "true", Title: "T", Email: "new@example.com", Salutation: "S", Active: true})
		return all, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	s := string(got)
	header := string(bundled[:strings.Index(string(bundled), "targets:")])
	if !strings.HasPrefix(s, header) {
		t.Errorf("the header comment (with the placeholder warning) is gone:\n%s", s)
	}
	if !strings.Contains(s, "PLACEHOLDERS at example.com") {
		t.Error("placeholder warning lost")
	}
	ts, err := Parse("saved", got)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tg := range ts {
		ids = append(ids, tg.ID)
	}
	if strings.Join(ids, ",") != "ted-sarandos,greg-peters,bela-bajaria,new-one" {
		t.Errorf("order = %v", ids)
	}
	if ts[1].Title != "Chief Product Officer: Netflix" || ts[2].Active || ts[3].Name != "true" {
		t.Errorf("values not saved: %+v", ts)
	}
	// Only the changed lines differ: the title, active, the removed target's
	// six lines and the new target's six.
	oldLines, newLines := map[string]int{}, map[string]int{}
	for _, l := range strings.Split(string(bundled), "\n") {
		oldLines[l]++
	}
	for _, l := range strings.Split(s, "\n") {
		newLines[l]++
	}
	added := 0
	for l, n := range newLines {
		if n > oldLines[l] {
			added += n - oldLines[l]
		}
	}
	if added > 2+6 {
		t.Errorf("%d lines differ, want at most 8:\n%s", added, s)
	}
}

func TestMarshalOverFallsBack(t *testing.T) {
	ts := []Target{{ID: "a", Name: "A", Title: "T", Email: "a@example.com", Salutation: "S", Active: true}}
	for _, old := range []string{"", "not: [valid", "people: []\n", "targets: []\n", "# c\ntargets:\n  - &x {id: b, name: B, title: T, email: b@example.com, salutation: S, active: true}\n"} {
		out, err := MarshalOver([]byte(old), ts)
		if err != nil {
			t.Fatalf("%q: %v", old, err)
		}
		got, err := Parse("out", out)
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], ts[0]) {
			t.Fatalf("%q gave %q: %v %v", old, out, got, err)
		}
	}
}
