package target

import (
	"reflect"
	"strings"
	"testing"
)

func TestTargetAreasAndFields(t *testing.T) {
	src := `targets:
  - id: mp-north
    name: Ann North
    title: MP for Aberdeen North
    email: ann@example.org
    salutation: Ms North
    active: true
    areas: [S14000060]
    fields: {party: Green, chamber: lower}
  - id: pm
    name: Pat Prime
    title: Prime Minister
    email: pm@example.org
    salutation: Prime Minister
    active: true
`
	ts, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ts[0].Areas, []string{"S14000060"}) || ts[0].Fields["party"] != "Green" || ts[1].Areas != nil {
		t.Fatalf("parsed %+v", ts)
	}
	if !ts[0].HasArea("S14000060") || ts[1].HasArea("S14000060") {
		t.Error("HasArea")
	}
	// Written back (the console's save) and read again: the same.
	out, err := MarshalOver([]byte(src), ts)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("t.yaml", out)
	if err != nil || !reflect.DeepEqual(back, ts) {
		t.Fatalf("round trip: %v\n%s", err, out)
	}
	ts[0].Areas, ts[0].Fields = []string{"S14000061", "S14000111"}, nil
	out, _ = MarshalOver(out, ts)
	back, _ = Parse("t.yaml", out)
	if !reflect.DeepEqual(back[0].Areas, ts[0].Areas) || back[0].Fields != nil || strings.Contains(string(out), "fields") {
		t.Errorf("after an edit: %+v\n%s", back[0], out)
	}
	plain, _ := Marshal(ts)
	if back, err := Parse("t.yaml", plain); err != nil || !reflect.DeepEqual(back, ts) {
		t.Errorf("Marshal round trip: %v", err)
	}
}

func TestTargetAreasRefusedWithTheirLine(t *testing.T) {
	for _, tc := range []struct{ extra, want string }{
		{"    areas: {a: b}\n", "t.yaml:8: areas must be a list"},
		{"    areas: [\"no spaces\"]\n", "t.yaml:8: area \"no spaces\""},
		{"    fields: [a]\n", "t.yaml:8: fields must be a mapping"},
		{"    fields: {Party: x}\n", "t.yaml:8: field name \"Party\""},
		{"    fields: {party: [a]}\n", "t.yaml:8: field party must be one line"},
	} {
		src := "targets:\n  - id: a\n    name: A\n    title: T\n    email: a@example.org\n    salutation: S\n    active: true\n" + tc.extra
		_, err := Parse("t.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.extra, err, tc.want)
		}
	}
}
