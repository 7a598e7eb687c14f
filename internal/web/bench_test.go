package web

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkAPISign posts unique JSON letters to the sign endpoint of the
// real server (middleware, validation, four renders, the store) over
// loopback HTTP, from 16 goroutines per CPU.
func BenchmarkAPISign(b *testing.B) {
	a := newTestApp(b)
	url := a.http.URL + "/api/v1/campaigns/netflix-baby/letters"
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"first_name":"Ann","last_name":"Lee","email":"bench-%d@example.org","subject":"Stop it",`+
				`"body":"Please stop the series.\n\nThank you.","accept_privacy":true}`, seq.Add(1))
			resp, err := client.Post(url, "application/json", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
