package target

import (
	"reflect"
	"testing"
)

// FuzzParse feeds arbitrary files to the targets loader: it never panics,
// every problem names the file (and a line when it has one), and what it
// accepts survives a round trip through Marshal and MarshalOver.
func FuzzParse(f *testing.F) {
	f.Add([]byte("targets:\n  - id: a\n    name: A\n    title: T\n    email: a@example.com\n    salutation: Ms. A\n    active: true\n"))
	f.Add([]byte("targets: [\n"))
	f.Add([]byte("targets:\n  - id: A B\n    email: nope\n    active: maybe\n    extra: 1\n"))
	f.Add([]byte("x: 1\ntargets: {}\n"))
	f.Add([]byte("targets:\n  - &a {id: a, name: A, title: T, email: a@example.com, salutation: S, active: true}\n  - *a\n"))
	f.Add([]byte("\xff\xfe\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := Parse("t.yaml", data)
		if err != nil {
			ps, ok := err.(Problems)
			if !ok || len(ps) == 0 {
				t.Fatalf("error %T %v, want Problems", err, err)
			}
			for _, p := range ps {
				if p.File != "t.yaml" || p.Line < 0 || p.Msg == "" {
					t.Fatalf("problem without a file or message: %+v", p)
				}
			}
			return
		}
		out, err := Marshal(ts)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse("again.yaml", out)
		if err != nil {
			t.Fatalf("accepted targets do not survive a round trip: %v\n%s", err, out)
		}
		if len(ts) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(ts, again) {
			t.Fatalf("round trip changed the targets:\n%+v\n%+v", ts, again)
		}
		// Written back into the file itself (a console save), too.
		over, err := MarshalOver(data, ts)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := Parse("over.yaml", over); err != nil || !reflect.DeepEqual(ts, back) {
			t.Fatalf("MarshalOver changed the targets: %v\n%s", err, over)
		}
	})
}
