//go:build !shadowonly

// Progress on long reads, printed while stderr is a terminal.
package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/srctl/srctl/lakehouse/proxylog"
	"golang.org/x/term"
)

// startProgress prints reading progress on w while it is a terminal; the returned function
// stops it and clears the line.
func startProgress(w io.Writer, p *proxylog.Progress) func() {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		start := time.Now()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(f, "\r\x1b[K")
				return
			case <-tick.C:
				el := time.Since(start).Seconds()
				b := p.Bytes.Load()
				fmt.Fprintf(f, "\r\x1b[Kreading %d/%d files, %.0f MB, %d rows (%.0f MB/s, %.0fk rows/s)",
					p.FilesDone.Load(), p.FilesTotal.Load(), float64(b)/1e6, p.Rows.Load(), float64(b)/1e6/el, float64(p.Rows.Load())/1e3/el)
			}
		}
	}()
	return func() { close(done); <-stopped }
}
