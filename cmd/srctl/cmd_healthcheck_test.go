package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte("ok\n"))
		case "/redirect":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		default:
			http.Error(w, "writer loop stalled\x1b[31m", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		args     []string
		code     int
		wantText string
	}{
		{[]string{"healthcheck", srv.URL + "/healthz"}, exitOK, "HTTP 200"},
		{[]string{"healthcheck", srv.URL + "/readyz"}, exitFailure, "HTTP 503: writer loop stalled"},
		{[]string{"healthcheck", srv.URL + "/redirect"}, exitFailure, "HTTP 302"}, // a probe answers itself
		{[]string{"healthcheck", "http://127.0.0.1:1/healthz", "--timeout", "1s"}, exitFailure, "connect"},
		{[]string{"healthcheck", "https://127.0.0.1:9092/healthz"}, exitUsage, "want an http://"},
		{[]string{"healthcheck", "http://user:secret@127.0.0.1:9092/healthz"}, exitUsage, "without credentials"},
	} {
		code, stdout, stderr := runCLI(t.Context(), tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.wantText) {
			t.Errorf("%v: exit %d (want %d), output %q, want it to contain %q", tc.args, code, tc.code, stdout+stderr, tc.wantText)
		}
		if strings.Contains(stdout+stderr, "\x1b") || strings.Contains(stdout+stderr, "secret") {
			t.Errorf("%v: output carries a control character or the password: %q", tc.args, stdout+stderr)
		}
	}
}
