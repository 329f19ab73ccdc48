// Command duckdbref times srctl diff against DuckDB, the embedded analytical engine the diff
// issue measured itself against, on the same generated proxy logs, alternating the two so that
// the noise of a shared machine hits both. The ratio is the figure to read; absolute MB/s on
// these machines moves by 30% from one minute to the next.
//
// It lives in its own module so that srctl does not link DuckDB: `make bench-reference` builds
// and runs it.
//
// Usage: duckdbref -srctl bin/srctl -logs DIR[,DIR...] [-runs 5]
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
	logs := flag.String("logs", "", "folders of generated proxy logs (srctl-traffic-gen's shadow-logs/), comma-separated")
	runs := flag.Int("runs", 5, "rounds: each runs every engine on every folder once, alternated")
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

func compare(srctl, logList string, runs int) error {
	if logList == "" {
		return fmt.Errorf("-logs is required")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	sets := strings.Split(logList, ",")
	size := map[string]int64{}
	for _, logs := range sets {
		err := filepath.WalkDir(logs, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.Contains(d.Name(), ".jsonl") {
				return err
			}
			info, err := d.Info()
			size[logs] += info.Size()
			return err
		})
		if err != nil {
			return err
		}
	}
	order := []string{"srctl diff", "duckdb"}
	cmd := func(name, logs string) *exec.Cmd {
		if name == "duckdb" {
			return exec.Command(self, "-engine", "duckdb", "-logs", logs)
		}
		return exec.Command(srctl, "diff", logs, "--format", "json")
	}
	got := map[string]map[string][]sample{} // data set -> engine -> runs
	// Alternate engines and data sets within each round, so the machine's drift hits all; and
	// the engines' order from one round to the next, so that each runs as often right after the
	// other as not. (In a fixed order srctl always followed DuckDB, which has just freed ~430 MB:
	// on a virtual machine where a fault on memory new to a process is dear, that alone added
	// ~0.1-0.2 s to srctl's runs.)
	for r := range runs {
		for si, logs := range sets {
			if got[logs] == nil {
				got[logs] = map[string][]sample{}
			}
			names := order
			if (r+si)%2 == 1 {
				names = []string{order[1], order[0]}
			}
			for _, name := range names {
				s, err := timeIt(cmd(name, logs))
				if err != nil {
					return fmt.Errorf("%s on %s: %w", name, logs, err)
				}
				got[logs][name] = append(got[logs][name], s)
				fmt.Fprintf(os.Stderr, "round %d %-10s %6.2f s %6.0f MB RSS  %s\n", r+1, name, s.wall.Seconds(), s.rssMB, logs)
			}
		}
	}
	for _, logs := range sets {
		fmt.Printf("%s: %.0f MB of JSONL, %d alternated rounds, median [min-max]:\n", logs, float64(size[logs])/1e6, runs)
		for _, name := range order {
			walls, rss := stat(got[logs][name], func(s sample) float64 { return s.wall.Seconds() }), stat(got[logs][name], func(s sample) float64 { return s.rssMB })
			fmt.Printf("  %-10s %6.2f s [%.2f-%.2f]  %6.0f MB/s  peak RSS %4.0f MB [%.0f-%.0f]\n", name, walls[1], walls[0], walls[2],
				float64(size[logs])/1e6/walls[1], rss[1], rss[0], rss[2])
		}
		// The ratio of each round's pair: srctl's wall time over DuckDB's (the goal: <= 0.5).
		var ratios []float64
		for i := range got[logs]["srctl diff"] {
			ratios = append(ratios, got[logs]["srctl diff"][i].wall.Seconds()/got[logs]["duckdb"][i].wall.Seconds())
		}
		slices.Sort(ratios)
		fmt.Printf("  srctl diff's wall time is %.2fx DuckDB's [%.2f-%.2f] (goal <= 0.5x)\n", ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
	}
	return nil
}

// stat is the min, median and max of f over ss.
func stat(ss []sample, f func(sample) float64) [3]float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.Sort(v)
	return [3]float64{v[0], v[len(v)/2], v[len(v)-1]}
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
