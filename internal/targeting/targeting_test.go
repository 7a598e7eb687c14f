package targeting

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/outcry/outcry/internal/area"
	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/i18n"
	"github.com/outcry/outcry/internal/target"
)

func fixture(t *testing.T) (*target.List, *area.Index) {
	t.Helper()
	ix, err := area.Parse("areas.csv", []byte("key,area,area_name\nAB1,S1,North\nAB2,S2,South\nAB3,S3,Nowhere\n94103,CA-11,\n94103,CA-12,\n"))
	if err != nil {
		t.Fatal(err)
	}
	list := &target.List{All: []target.Target{
		{ID: "north", Name: "N", Active: true, Areas: []string{"S1"}, Fields: map[string]string{"party": "Green"}},
		{ID: "south", Name: "S", Active: true, Areas: []string{"S2"}},
		{ID: "south2", Name: "S2", Active: true, Areas: []string{"S2"}},
		{ID: "ca11", Active: true, Areas: []string{"CA-11"}},
		{ID: "ca12", Active: true, Areas: []string{"CA-12"}},
		{ID: "pm", Name: "PM", Active: true},
		{ID: "help", Name: "Helpdesk", Active: true, Areas: []string{"ZZ"}},
		{ID: "gone", Active: false, Areas: []string{"S1"}},
	}}
	return list, ix
}

func ids(ts []target.Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func field(err error) string {
	var fe FieldErrors
	if !errors.As(err, &fe) {
		return fmt.Sprint(err)
	}
	for k := range fe {
		return k
	}
	return ""
}

func TestResolveByArea(t *testing.T) {
	list, ix := fixture(t)
	camp := &campaign.Campaign{Slug: "c", Targeting: campaign.Targeting{Match: "area", Min: 1}}
	for _, tc := range []struct {
		name      string
		tg        campaign.Targeting
		req       Request
		want      []string
		errField  string
		split, fb bool
	}{
		{name: "one area", req: Request{Postcode: "ab1 2cd"}, want: []string{"north", "pm"}},
		{name: "no postcode", req: Request{}, errField: "postcode"},
		{name: "bad form", req: Request{Postcode: "AB1 <2>"}, errField: "postcode"},
		{name: "unknown, no fallback", req: Request{Postcode: "ZZ9 9ZZ"}, errField: "postcode"},
		{name: "area without target, no fallback", req: Request{Postcode: "AB3"}, errField: "postcode"},
		{name: "unknown, fallback", tg: campaign.Targeting{Fallback: []string{"help"}}, req: Request{Postcode: "ZZ9 9ZZ"},
			want: []string{"help", "pm"}, fb: true},
		{name: "split without area", req: Request{Postcode: "94103"}, errField: "area"},
		{name: "split looked up", req: Request{Postcode: "94103", Lookup: true}, split: true},
		{name: "split with area", req: Request{Postcode: "94103-0001", Area: "CA-12"}, want: []string{"ca12", "pm"}},
		{name: "split with a wrong area", req: Request{Postcode: "94103", Area: "S1"}, errField: "area"},
		{name: "choose one of two", tg: campaign.Targeting{Choose: true, Min: 1, Max: 1}, req: Request{Postcode: "AB2", Chosen: []string{"south2"}},
			want: []string{"south2"}},
		{name: "choose none", tg: campaign.Targeting{Choose: true, Min: 1}, req: Request{Postcode: "AB2"}, errField: "targets"},
		{name: "choose too many", tg: campaign.Targeting{Choose: true, Min: 1, Max: 2}, req: Request{Postcode: "AB2", Chosen: []string{"south", "south2", "pm"}},
			errField: "targets"},
		{name: "choose outside the matched", tg: campaign.Targeting{Choose: true, Min: 1}, req: Request{Postcode: "AB2", Chosen: []string{"north"}},
			errField: "targets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := *camp
			c.Targeting.Choose, c.Targeting.Max, c.Targeting.Fallback = tc.tg.Choose, tc.tg.Max, tc.tg.Fallback
			c.Targets = []string{"north", "south", "south2", "ca11", "ca12", "pm", "help", "gone"}
			if tc.name == "one area" || tc.name == "split with area" {
				c.Targets = nil
			}
			res, err := Resolve(&c, list, ix, tc.req)
			if tc.errField != "" {
				if field(err) != tc.errField {
					t.Fatalf("err = %v, want one on %s", err, tc.errField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Split != tc.split || res.Fallback != tc.fb {
				t.Errorf("split %v fallback %v", res.Split, res.Fallback)
			}
			if !tc.split && !slices.Equal(ids(res.Targets), tc.want) {
				t.Errorf("targets %v, want %v", ids(res.Targets), tc.want)
			}
			if res.Version == "" || res.Version != ix.Version.String() {
				t.Errorf("version %q", res.Version)
			}
		})
	}
}

func TestMatchAllIsTodaysBehaviour(t *testing.T) {
	list, ix := fixture(t)
	res, err := Resolve(&campaign.Campaign{Targeting: campaign.Targeting{Match: "all"}}, list, ix, Request{})
	if err != nil || len(res.Targets) != 7 || res.Version != "" || res.ByArea {
		t.Fatalf("%v %v %+v", err, ids(res.Targets), res)
	}
}

func TestSampleIsStablePerSupporterAndSpreads(t *testing.T) {
	var ts []target.Target
	for i := range 50 {
		ts = append(ts, target.Target{ID: fmt.Sprintf("t%02d", i), Active: true})
	}
	list := &target.List{All: ts}
	camp := &campaign.Campaign{Slug: "c", Targeting: campaign.Targeting{Match: "all", Sample: 2}}
	hits := map[string]int{}
	for i := range 500 {
		who := fmt.Sprintf("person%d@example.org", i)
		a, err := Resolve(camp, list, nil, Request{Supporter: who})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Resolve(camp, list, nil, Request{Supporter: who})
		if len(a.Targets) != 2 || !slices.Equal(ids(a.Targets), ids(b.Targets)) {
			t.Fatalf("%s drew %v then %v", who, ids(a.Targets), ids(b.Targets))
		}
		for _, t := range a.Targets {
			hits[t.ID]++
		}
	}
	if len(hits) < 45 {
		t.Errorf("500 supporters drew only %d of 50 targets", len(hits))
	}
}

func TestLetterVersionByField(t *testing.T) {
	list, _ := fixture(t)
	camp := &campaign.Campaign{Letter: campaign.Letter{Subject: "Default", Body: "Please act.",
		Versions: []campaign.LetterVersion{{When: map[string]string{"party": "green"}, Subject: "Thank you", Body: "Thanks."}}}}
	north, _ := list.ByID("north")
	south, _ := list.ByID("south")
	if l := Letter(camp, []target.Target{north}); l.Subject != "Thank you" {
		t.Errorf("Green target got %q", l.Subject)
	}
	if l := Letter(camp, []target.Target{south}); l.Subject != "Default" {
		t.Errorf("other target got %q", l.Subject)
	}
}

// Every problem a supporter can be told is a message of the site's
// language, with its values filled in.
func TestProblemsAreInTheCatalog(t *testing.T) {
	cat := i18n.Default()
	for _, p := range []Problem{MsgPostcodeRequired, MsgPostcodeForm, MsgPostcodeUnknown, MsgAreaRequired, MsgAreaNotOfPC} {
		if !cat.Has(p.Key) {
			t.Errorf("%s is not in templates/messages", p.Key)
		}
	}
	list, _ := fixture(t)
	camp := &campaign.Campaign{Slug: "c", Targeting: campaign.Targeting{Choose: true, Min: 1, Max: 1}}
	matched := Base(camp, list)
	for _, tc := range []struct {
		chosen []string
		want   string
	}{
		{[]string{"nobody-here"}, "“nobody-here” is not one of the people you can write to here."},
		{nil, "Choose at least 1 of the people you can write to."},
		{ids(matched[:2]), "Choose at most 1 of the people you can write to."},
	} {
		_, err := choose(camp.Targeting, matched, tc.chosen)
		var fe FieldErrors
		if !errors.As(err, &fe) {
			t.Fatalf("%v: %v, want field errors", tc.chosen, err)
		}
		if got := fe.In(cat.T)["targets"]; got != tc.want {
			t.Errorf("%v: %q, want %q", tc.chosen, got, tc.want)
		}
	}
}
