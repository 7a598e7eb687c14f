package area

import (
	"bytes"
	"testing"
)

// FuzzParse: any text is either refused with a Problem or gives an index
// whose every key finds itself.
func FuzzParse(f *testing.F) {
	f.Add([]byte("key,area,area_name\nSW1A 1AA,E1,Westminster\nSW1A,E1,\n94103,CA-11,\n94103,CA-12,\n"))
	f.Add([]byte("area,key\n\"AB1, 2\",S1\n"))
	f.Add([]byte("\xef\xbb\xbfkey,area\r\nab-1,x\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := Parse("f.csv", data)
		if err != nil {
			if _, ok := err.(*Problem); !ok {
				t.Fatalf("error %T %v is not a Problem", err, err)
			}
			return
		}
		for i := range ix.Keys() {
			k := string(ix.key(i))
			got, ok := ix.Lookup(k)
			if !ok || len(got) == 0 {
				t.Fatalf("key %q does not find itself", k)
			}
			if i > 0 && bytes.Compare(ix.key(i-1), ix.key(i)) >= 0 {
				t.Fatalf("keys out of order at %d", i)
			}
		}
	})
}

func FuzzLookup(f *testing.F) {
	ix, err := Parse("f.csv", []byte("key,area\nSW1A,E1\nSW1A1AA,E2\n94103,CA-11\n94103,CA-12\n9,N\n"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("SW1A 1AA")
	f.Add("94103-1234")
	f.Add("")
	f.Fuzz(func(t *testing.T, pc string) {
		got, ok := ix.Lookup(pc)
		n, valid := Normalize(pc)
		if ok != valid {
			t.Fatalf("Lookup ok %v, Normalize ok %v", ok, valid)
		}
		if len(got) > 0 {
			// The match is a key that prefixes the normalized postcode.
			found := false
			for i := range ix.Keys() {
				if k := string(ix.key(i)); len(k) <= len(n) && n[:len(k)] == k {
					found = true
				}
			}
			if !found {
				t.Fatalf("%q matched without a prefix key", pc)
			}
		}
	})
}
