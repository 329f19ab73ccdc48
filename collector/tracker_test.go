package collector

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
)

// TestInt64HeapPopsInOrder: the typed heap gives back any sequence of pushes, interleaved with
// pops, smallest first (duplicates and negative times included).
func TestInt64HeapPopsInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var h int64Heap
		var shadow []int64 // what the heap holds, kept sorted
		for range rng.IntN(300) {
			if len(shadow) > 0 && rng.IntN(3) == 0 {
				if h[0] != shadow[0] {
					t.Fatalf("round %d: smallest is %d, want %d", round, h[0], shadow[0])
				}
				h.pop()
				shadow = shadow[1:]
				continue
			}
			v := rng.Int64N(50) - 10
			h.push(v)
			i, _ := slices.BinarySearch(shadow, v)
			shadow = slices.Insert(shadow, i, v)
		}
		for len(shadow) > 0 {
			if h[0] != shadow[0] {
				t.Fatalf("round %d: smallest is %d, want %d", round, h[0], shadow[0])
			}
			h.pop()
			shadow = shadow[1:]
		}
		if h.Len() != 0 {
			t.Fatalf("round %d: %d values left", round, h.Len())
		}
	}
}

// TestAuthorizationIsSetBasicAuths: the header value encoded once per client is the one
// Request.SetBasicAuth would set, for credentials with colons, spaces and non-ASCII.
func TestAuthorizationIsSetBasicAuths(t *testing.T) {
	for _, cred := range [][2]string{{"root", ""}, {"srctl", "p:a ss"}, {"ü", "パスワード"}} {
		c := &feClient{user: cred[0], password: cred[1]}
		req, _ := http.NewRequest(http.MethodGet, "http://fe:8030/api/query_detail", nil)
		req.SetBasicAuth(cred[0], cred[1])
		if got, want := c.authorization(), req.Header.Get("Authorization"); got != want {
			t.Errorf("user %q: %q, SetBasicAuth sets %q", cred[0], got, want)
		}
	}
}
