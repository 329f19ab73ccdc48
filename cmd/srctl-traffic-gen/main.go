// Command srctl-traffic-gen writes synthetic shadow-proxy logs and query-profile records with
// planted differences (a regression, a tail-only regression, an improvement, shadow-only
// failures, SQL errors the proxy logs as successes, large results) and the existing proxy's
// data-quality quirks. It is test data for `srctl diff`, not a model of a real workload.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/srctl/srctl/testdouble/trafficgen"
)

func main() {
	var cfg trafficgen.Config
	start := flag.String("start", "2026-03-05T10:00:00Z", "time of the first query (RFC 3339)")
	flag.StringVar(&cfg.Dir, "out", "srctl-demo", "output folder: shadow-logs/ and starrocks-query-profiles/ are written under it")
	flag.IntVar(&cfg.Queries, "queries", 50000, "mirrored queries (two log rows each)")
	flag.IntVar(&cfg.Endpoints, "endpoints", 20, "endpoints (at least 8: the planted ones come first)")
	flag.IntVar(&cfg.Hours, "hours", 3, "hours the queries spread over (one file per hour partition)")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "random seed: the same seed writes the same files")
	flag.BoolVar(&cfg.AA, "aa", false, "A/A: the same cluster on both sides, nothing planted")
	flag.BoolVar(&cfg.Quirks, "quirks", true, "add the proxy's quirks: duplicates, dropped shadow rows, filtered rows, a primary-only connection, bad lines")
	flag.IntVar(&cfg.ProfileEvery, "profile-every", 25, "write profile records of both clusters for one query in this many (0: none)")
	flag.StringVar(&cfg.Shape, "shape", trafficgen.ShapeClassic, "SQL shape: classic (short point queries) or real (analytic SQL of 100 B to 20 KB full of escaped <, > and &, about 3% commands without text)")
	fixAt := flag.String("fix-at", "", "plant a fix for srctl validate: from this time (RFC 3339) the shadow's planted regression is gone")
	flag.Parse()
	t, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "srctl-traffic-gen: --start %q: %v\n", *start, err)
		os.Exit(2)
	}
	cfg.Start = t
	if *fixAt != "" {
		if cfg.FixAt, err = time.Parse(time.RFC3339, *fixAt); err != nil {
			fmt.Fprintf(os.Stderr, "srctl-traffic-gen: --fix-at %q: %v\n", *fixAt, err)
			os.Exit(2)
		}
	}
	st, err := trafficgen.Generate(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "srctl-traffic-gen:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d log rows in %d files (%.1f MB) and %d profile records under %s\n", st.Rows, st.Files, float64(st.Bytes)/1e6, st.Profiles, cfg.Dir)
}
