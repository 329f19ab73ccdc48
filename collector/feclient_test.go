package collector

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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

// testFEClient is an FE client of a test server, built as the collector builds its clients.
func testFEClient(t *testing.T, srv *httptest.Server) *feClient {
	t.Helper()
	hc, err := newHTTPClient("", 4, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hc.CloseIdleConnections)
	return &feClient{base: srv.URL, host: strings.TrimPrefix(srv.URL, "http://"), user: "srctl",
		password: "s3cret", auth: basicAuth("srctl", "s3cret"), http: hc, maxDetail: 1 << 20, maxProf: 1 << 20, api: APIv1}
}

// TestProfileFetchFollowsRedirects: the transport-direct path hands a redirect (an ingress in
// front of the FE) to the client, which follows it with the credentials on the same host; a
// redirect to another host gets none.
func TestProfileFetchFollowsRedirects(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("credentials sent to another host")
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer other.Close()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch {
		case r.URL.Path == "/api/profile" && r.URL.Query().Get("query_id") == "q-away":
			// Another host name (Go forwards credentials to the same name on another port).
			away := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
			http.Redirect(w, r, away+"/api/profile?query_id=q-away", http.StatusFound)
		case r.URL.Path == "/api/profile":
			http.Redirect(w, r, "/moved/profile?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
		case r.URL.Path == "/moved/profile":
			if u, p, _ := r.BasicAuth(); u != "srctl" || p != "s3cret" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			io.WriteString(w, "Query:\n  Summary:\n     - Query ID: "+r.URL.Query().Get("query_id")+"\n")
		}
	}))
	defer srv.Close()
	c := testFEClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	text, release, err := c.profile(ctx, "q-1")
	if err != nil || !strings.Contains(text, "Query ID: q-1") {
		t.Fatalf("redirected profile: %q, %v", text, err)
	}
	release()
	if n := hits.Load(); n != 3 { // the direct try, the client's try, the redirected request
		t.Errorf("%d requests, want 3", n)
	}
	if _, release, err := c.profile(ctx, "q-away"); !errors.Is(err, ErrProfileNotFound) {
		t.Errorf("redirect to another host: %v, want the other host's 404", err)
	} else {
		release()
	}
}

// TestProfileFetchSkipsTheClientWithADeadline: with a deadline the fetch goes through the
// transport itself and allocates less than through http.Client.Do; without one it goes through
// the client (whose timeout it then needs) and still works.
func TestProfileFetchSkipsTheClientWithADeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Query:\n  Summary:\n     - Query ID: x\n")
	}))
	defer srv.Close()
	c := testFEClient(t, srv)
	text, release, err := c.profile(context.Background(), "x") // no deadline: the client's path
	if err != nil || !strings.Contains(text, "Query ID: x") {
		t.Fatalf("without a deadline: %q, %v", text, err)
	}
	release()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fetch := func(do bool) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/profile?query_id=x", nil)
		var resp *http.Response
		var err error
		if do {
			resp, err = c.http.Do(req)
		} else {
			resp, err = c.roundTrip(req)
		}
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	fetch(false) // a kept connection for both
	direct := testing.AllocsPerRun(200, func() { fetch(false) })
	viaClient := testing.AllocsPerRun(200, func() { fetch(true) })
	if direct >= viaClient {
		t.Errorf("%.1f allocations a fetch through the transport, %.1f through the client: want fewer", direct, viaClient)
	}
	t.Logf("allocations a fetch (client and server): %.1f direct, %.1f through http.Client", direct, viaClient)
}

// TestProfileFetchRedirectLoopEnds: an FE (or whatever answers in its place) that redirects
// forever costs a bounded number of requests and gives an error that names no credential.
func TestProfileFetchRedirectLoopEnds(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, r.URL.String(), http.StatusFound)
	}))
	defer srv.Close()
	c := testFEClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, release, err := c.profile(ctx, "q-loop")
	release()
	if err == nil {
		t.Fatal("a redirect loop gave a profile")
	}
	if n := hits.Load(); n > 12 { // the direct try and the client's ten redirects at most
		t.Errorf("%d requests for one fetch", n)
	}
	if msg := err.Error(); strings.Contains(msg, "s3cret") || strings.Contains(msg, basicAuth("srctl", "s3cret")[6:]) {
		t.Errorf("the error shows the credentials: %s", msg)
	}
}
