package collector

import (
	"net/http"
	"testing"
)

// TestBasicAuthIsSetBasicAuths: the header value computed once per client is the one
// Request.SetBasicAuth would set, for credentials with colons, spaces and non-ASCII; no user, no
// header.
func TestBasicAuthIsSetBasicAuths(t *testing.T) {
	for _, cred := range [][2]string{{"root", ""}, {"srctl", "p:a ss"}, {"ü", "パスワード"}} {
		req, _ := http.NewRequest(http.MethodGet, "http://fe:8030/api/query_detail", nil)
		req.SetBasicAuth(cred[0], cred[1])
		if got, want := basicAuth(cred[0], cred[1]), req.Header.Get("Authorization"); got != want {
			t.Errorf("user %q: %q, SetBasicAuth sets %q", cred[0], got, want)
		}
	}
	if got := basicAuth("", "secret"); got != "" {
		t.Errorf("no user: %q, want no header", got)
	}
}
