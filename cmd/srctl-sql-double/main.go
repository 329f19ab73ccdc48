// Command srctl-sql-double serves a TEST DOUBLE of a StarRocks FE's MySQL port (see package
// testdouble/starrocksdouble): StarRocks-only statements (current_version(), session variables,
// last_query_id(), get_query_profile(), EXPLAIN COSTS) are answered by the double, everything
// else is forwarded to a MySQL or MariaDB server. It lets `srctl compare-baseline` be tried on
// its StarRocks paths without a cluster. It is not StarRocks.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/srctl/srctl/testdouble/starrocksdouble"
)

func main() {
	var (
		listen  = flag.String("listen", "127.0.0.1:19030", "address to serve the MySQL protocol on")
		backend = flag.String("backend", "root@tcp(127.0.0.1:3306)/test", "go-sql-driver DSN of the MySQL/MariaDB server that runs forwarded SQL (env SRCTL_SQL_DOUBLE_BACKEND)")
		version = flag.String("version", "3.5.2-69de616", "what current_version() answers")
		delay   = flag.Duration("async-profile-delay", 500*time.Millisecond, "with enable_async_profile=true a profile appears this long after its query")
	)
	flag.Parse()
	if v := os.Getenv("SRCTL_SQL_DOUBLE_BACKEND"); v != "" && !isSet("backend") {
		*backend = v
	}
	s, err := starrocksdouble.Start(*listen, starrocksdouble.Options{Backend: *backend, Version: *version, AsyncProfileDelay: *delay})
	if err != nil {
		log.Fatalf("srctl-sql-double: %v", err)
	}
	fmt.Fprintf(os.Stderr, "srctl-sql-double: StarRocks FE test double (not StarRocks) on %s, forwarding to the backend\n", s.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	if err := s.Close(); err != nil {
		log.Printf("srctl-sql-double: closing: %v", err)
	}
}

func isSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
