// Command duckdbref times srctl diff against DuckDB, the embedded analytical engine the diff
// issue measured itself against, on the same generated proxy logs, alternating the two so that
// the noise of a shared machine hits both. The ratio is the figure to read; absolute MB/s on
// these machines moves by 30% from one minute to the next.
//
// It lives in its own module so that srctl does not link DuckDB: `make bench-reference` builds
// and runs it.
//
// Usage: duckdbref -srctl bin/srctl -logs DIR [-runs 3]
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// referenceSQL does what srctl diff's core does: route extraction from the sqlcommenter tag,
// pairing primary and shadow rows by query_id, per-route latency quantiles and shadow-only
// failure counts. It does less than srctl (no dedup, no tests, no intervals, no divergence).
const referenceSQL = `WITH r AS (
  SELECT query_id, target, success, duration_ms,
         regexp_extract(query_text, 'route=''([^'']*)''', 1) AS route
  FROM read_json(?, format = 'newline_delimited', ignore_errors = true,
    columns = {ts: 'VARCHAR', query_id: 'VARCHAR', target: 'VARCHAR', command: 'VARCHAR', query_text: 'VARCHAR',
               query_hash: 'VARCHAR', duration_ms: 'DOUBLE', bytes_sent: 'BIGINT', bytes_recv: 'BIGINT',
               success: 'BOOLEAN', client_addr: 'VARCHAR', error: 'VARCHAR'})
  WHERE command = 'COM_QUERY'),
p AS (
  SELECT a.route, a.duration_ms AS pd, b.duration_ms AS sd, a.success AS ps, b.success AS ss
  FROM r a JOIN r b ON a.query_id = b.query_id AND a.target = 'primary' AND b.target = 'shadow')
SELECT route, count(*), quantile_cont(pd, [0.5, 0.9, 0.95, 0.99])::VARCHAR,
       quantile_cont(sd, [0.5, 0.9, 0.95, 0.99])::VARCHAR, count(*) FILTER (WHERE ps AND NOT ss)
FROM p GROUP BY route`

func main() {
	srctl := flag.String("srctl", "bin/srctl", "the srctl binary to time")
	logs := flag.String("logs", "", "folder of generated proxy logs (srctl-traffic-gen's shadow-logs/)")
	runs := flag.Int("runs", 3, "runs of each engine, alternated")
	engine := flag.String("engine", "", "internal: run DuckDB once in this process (the parent measures it)")
	flag.Parse()
	if *engine != "" {
		if err := runDuckDB(*logs); err != nil {
			fmt.Fprintln(os.Stderr, "duckdb:", err)
			os.Exit(1)
		}
		return
	}
	if err := compare(*srctl, *logs, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "duckdbref:", err)
		os.Exit(1)
	}
}

func runDuckDB(logs string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query(referenceSQL, filepath.Join(logs, "**", "*.jsonl*"))
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no groups: is %s a folder of proxy logs?", logs)
	}
	return nil
}

type sample struct {
	wall  time.Duration
	rssMB float64
}

func compare(srctl, logs string, runs int) error {
	if logs == "" {
		return fmt.Errorf("-logs is required")
	}
	var bytes int64
	err := filepath.WalkDir(logs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(d.Name(), ".jsonl") {
			return err
		}
		info, err := d.Info()
		bytes += info.Size()
		return err
	})
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmds := map[string]func() *exec.Cmd{
		"srctl diff": func() *exec.Cmd { return exec.Command(srctl, "diff", logs, "--format", "json") },
		"duckdb":     func() *exec.Cmd { return exec.Command(self, "-engine", "duckdb", "-logs", logs) },
	}
	order := []string{"srctl diff", "duckdb"}
	got := map[string][]sample{}
	for r := range runs {
		for _, name := range order {
			s, err := timeIt(cmds[name]())
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			got[name] = append(got[name], s)
			fmt.Fprintf(os.Stderr, "run %d %-10s %6.2f s %6.0f MB RSS\n", r+1, name, s.wall.Seconds(), s.rssMB)
		}
	}
	fmt.Printf("%.0f MB of JSONL in %s, median of %d alternated runs:\n", float64(bytes)/1e6, logs, runs)
	med := map[string]sample{}
	for _, name := range order {
		ss := got[name]
		slices.SortFunc(ss, func(a, b sample) int { return int(a.wall - b.wall) })
		med[name] = ss[len(ss)/2]
		fmt.Printf("  %-10s %6.2f s  %6.0f MB/s  peak RSS %4.0f MB\n", name, med[name].wall.Seconds(),
			float64(bytes)/1e6/med[name].wall.Seconds(), med[name].rssMB)
	}
	ratio := med["duckdb"].wall.Seconds() / med["srctl diff"].wall.Seconds()
	fmt.Printf("  srctl diff is %.2fx DuckDB's speed (the issue's 1 GB/s against DuckDB's 0.8 GB/s is 1.25x)\n", ratio)
	return nil
}

func timeIt(cmd *exec.Cmd) (sample, error) {
	cmd.Stdout, cmd.Stderr = nil, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return sample{}, err
	}
	s := sample{wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.rssMB = float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	return s, nil
}
