// Command srctl-fe-double serves TEST DOUBLES of StarRocks FE HTTP APIs (see package
// testdouble/fedouble) with a generated workload, so that `srctl collect` can be tried, demonstrated
// and load-tested without a StarRocks cluster. It is not StarRocks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/srctl/srctl/testdouble/fedouble"
)

func main() {
	var (
		listen       = flag.String("listen", "127.0.0.1:18030", "address of the first FE; further FEs take the following ports")
		fes          = flag.Int("fes", 1, "number of FEs")
		qps          = flag.Float64("qps", 50, "queries started per second on each FE")
		profileBytes = flag.Int("profile-bytes", 8<<10, "approximate size of each profile")
		profileRate  = flag.Float64("profile-rate", 1, "fraction of queries that get a profile")
		failRate     = flag.Float64("fail-rate", 0.02, "fraction of queries that fail")
		profDelay    = flag.Duration("max-profile-delay", 500*time.Millisecond, "profiles are built asynchronously within this delay")
		reserved     = flag.Int("profile-reserved", 500, "profiles kept per FE (profile_info_reserved_num)")
		errRate      = flag.Float64("error-rate", 0, "fraction of requests answered HTTP 500")
		truncRate    = flag.Float64("truncate-rate", 0, "fraction of responses cut in the middle")
		stallRate    = flag.Float64("stall-rate", 0, "fraction of requests stalled for 3s")
		duration     = flag.Duration("duration", 0, "stop after this long (0: until SIGINT/SIGTERM)")
	)
	flag.Parse()
	user, password := os.Getenv("SRCTL_FE_USER"), os.Getenv("SRCTL_FE_PASSWORD")
	if user == "" && password != "" {
		user = "root"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	host, portStr, err := net.SplitHostPort(*listen)
	if err != nil {
		log.Fatalf("--listen %q: %v", *listen, err)
	}
	var port int
	fmt.Sscanf(portStr, "%d", &port)
	var doubles []*fedouble.FE
	var servers []*http.Server
	for i := range *fes {
		fe := fedouble.New(fedouble.Config{User: user, Password: password, ProfileReserved: *reserved,
			Faults: fedouble.Faults{ServerError: *errRate, Truncate: *truncRate, Stall: *stallRate}})
		addr := net.JoinHostPort(host, fmt.Sprint(port+i))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			log.Fatalf("listening on %s: %v", addr, err)
		}
		srv := &http.Server{Handler: fe, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Printf("FE double %s: %v", addr, err)
			}
		}()
		doubles = append(doubles, fe)
		servers = append(servers, srv)
		fmt.Printf("FE test double listening on http://%s\n", addr)
	}
	w := &fedouble.Workload{FEs: doubles, QPS: *qps, FailRate: *failRate, ProfileRate: *profileRate,
		ProfileBytes: *profileBytes, MaxProfileDelay: *profDelay, Seed: uint64(time.Now().UnixNano())}
	n := w.Run(ctx)
	for _, s := range servers {
		s.Close()
	}
	fmt.Printf("FE test double stopped after %d queries\n", n)
}
