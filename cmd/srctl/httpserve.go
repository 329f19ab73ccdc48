// HTTP serving shared by the long-running commands (collect, shadow): metrics, health, pprof.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type readiness interface {
	Ready() bool
	Healthy() bool
}

func serveMetrics(addr string, withPprof bool, reg *prometheus.Registry, col readiness, lg *slog.Logger) (func(), error) {
	mux := newMetricsMux(reg, withPprof)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if !col.Healthy() {
			http.Error(w, "writer loop stalled", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !col.Ready() {
			http.Error(w, "no successful FE poll yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	stop, _, err := serveHTTP(addr, nil, mux, lg)
	return stop, err
}

// newMetricsMux serves reg on /metrics and, with withPprof, Go's profiles on /debug/pprof/.
func newMetricsMux(reg *prometheus.Registry, withPprof bool) *http.ServeMux {
	mux := http.NewServeMux()
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// serveHTTP serves mux on addr (the --metrics-addr of long-running commands), or on ln when
// one was inherited, until the returned stop is called.
func serveHTTP(addr string, ln net.Listener, mux *http.ServeMux, lg *slog.Logger) (stop func(), bound net.Listener, err error) {
	if ln == nil {
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, nil, fmt.Errorf("--metrics-addr %s: %w", addr, err)
		}
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			lg.Error("metrics server stopped", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, ln, nil
}
