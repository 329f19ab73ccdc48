package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/srctl/srctl/shadowproxy"
)

// minControlTokenLen keeps guessable tokens out: the switch decides whose answers production
// clients get.
const minControlTokenLen = 16

// controlToken reads the token that POST /source requires, from the file or
// SRCTL_CONTROL_TOKEN (never a flag: process listings, shell history). "" means none.
func controlToken(file string) (string, error) {
	tok := os.Getenv("SRCTL_CONTROL_TOKEN")
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usageErrorf("--control-token-file: %v", err)
		}
		tok = string(b)
	}
	tok = strings.TrimSpace(tok)
	if tok != "" && len(tok) < minControlTokenLen {
		return "", usageErrorf("the control token is %d characters long: want at least %d (e.g. openssl rand -hex 32)", len(tok), minControlTokenLen)
	}
	return tok, nil
}

// sourceHandler serves /source: GET says whose answers clients get; POST ?to=shadow|primary
// switches. A switch needs "Authorization: Bearer TOKEN" when a token is configured, and
// switching to the shadow is refused when none is. Browsers' cross-site requests are refused
// (a page on another site cannot make an operator's browser flip production traffic).
func sourceHandler(p *shadowproxy.Proxy, token string, lg *slog.Logger) http.Handler {
	want := sha256.Sum256([]byte(token))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			fmt.Fprintln(w, p.Source())
			return
		case http.MethodPost:
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
			return
		}
		var to shadowproxy.Source
		switch r.URL.Query().Get("to") {
		case "shadow":
			to = shadowproxy.SourceShadow
		case "primary":
			to = shadowproxy.SourcePrimary
		default:
			http.Error(w, "want ?to=shadow or ?to=primary", http.StatusBadRequest)
			return
		}
		switch {
		case token == "" && to == shadowproxy.SourceShadow:
			lg.Warn("source switch refused: no control token configured", "from", r.RemoteAddr)
			http.Error(w, "switching to the shadow needs a control token (SRCTL_CONTROL_TOKEN or --control-token-file)", http.StatusForbidden)
			return
		case token != "":
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
			if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || !ok {
				lg.Warn("source switch refused: bad or missing token", "from", r.RemoteAddr)
				w.Header().Set("WWW-Authenticate", `Bearer realm="srctl shadow control"`)
				http.Error(w, "missing or wrong token: send Authorization: Bearer TOKEN", http.StatusUnauthorized)
				return
			}
		}
		if err := p.SetSource(to); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		lg.Warn("source switched over HTTP", "to", to.String(), "from", r.RemoteAddr)
		fmt.Fprintln(w, p.Source())
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lg.Warn("source switch refused: cross-site request", "from", r.RemoteAddr, "origin", r.Header.Get("Origin"))
		http.Error(w, "cross-site requests are refused", http.StatusForbidden)
	}))
	return cop.Handler(h)
}
