//go:build !shadowonly && unix

package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/internal/testenv"
)

// TestShadowTenThousandIdleConnections holds 10,000 idle client sessions open through a real
// srctl shadow process (clients here, the primary a test double in a third process: each side
// needs a descriptor per session), then checks its memory per connection, that it still
// serves, that every session and goroutine ends when the clients leave, and that SIGTERM
// stops it cleanly.
func TestShadowTenThousandIdleConnections(t *testing.T) {
	n := 10000
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	if want := uint64(2*n + 50); lim.Max < want { // the proxy needs two per session, and a few
		n = int(lim.Max-50) / 2
		t.Logf("open-files hard limit %d (the proxy needs two per session): %d sessions", lim.Max, n)
	}
	lim.Cur = lim.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) // children inherit it

	fake := exec.Command(os.Args[0], "-test.run=^$")
	fake.Env = append(os.Environ(), fakeMySQLEnv+"=1")
	stdout, _ := fake.StdoutPipe()
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Process.Signal(syscall.SIGTERM); fake.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	primary := strings.TrimSpace(line)

	listen, metrics := testenv.FreeAddr(t), testenv.FreeAddr(t)
	argv, _ := json.Marshal([]string{"shadow", "--listen", listen, "--primary", primary, "--shadow", testenv.FreeAddr(t),
		"--log-sink", t.TempDir(), "--metrics-addr", metrics, "--log-level", "warn", "--drain-timeout", "20s"})
	proxy := exec.Command(os.Args[0], "-test.run=^$")
	proxy.Env = append(os.Environ(), childEnv+"="+string(argv))
	exited, perr := startProcess(t, proxy)
	if err := waitListeningOrExit(listen, exited); err != nil {
		t.Fatalf("srctl shadow: %v\n%s", err, perr)
	}
	waitListening(t, metrics)
	goroutines0 := scrapeCounter(metrics, "go_goroutines")
	rss0 := testenv.ProcessRSS(t, proxy.Process.Pid)

	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for len(conns) < n {
		nc, err := net.DialTimeout("tcp", listen, 10*time.Second)
		if err == nil {
			_, err = mysqlwire.Connect(nc, mysqlwire.ClientConfig{User: "root"})
		}
		if err != nil {
			t.Fatalf("session %d: %v\n%s", len(conns)+1, err, perr.String())
		}
		conns = append(conns, nc)
	}
	rss1 := testenv.ProcessRSS(t, proxy.Process.Pid)
	if got := scrapeCounter(metrics, "srctl_shadow_connections_active"); got != n {
		t.Fatalf("%d sessions active, want %d", got, n)
	}
	goroutines1 := scrapeCounter(metrics, "go_goroutines")
	perConn := float64(rss1-rss0) / float64(n)
	t.Logf("%d idle sessions: proxy RSS %d -> %d MiB, %.1f KiB per session; goroutines %d -> %d",
		n, rss0>>20, rss1>>20, perConn/1024, goroutines0, goroutines1)
	if perConn > 64<<10 && !raceEnabled {
		t.Errorf("%.1f KiB of RSS per idle session: want at most 64", perConn/1024)
	}
	if per := float64(goroutines1-goroutines0) / float64(n); per > 1.05 {
		t.Errorf("%.2f goroutines per idle session: want one", per)
	}

	for _, c := range conns {
		c.Close()
	}
	conns = nil
	deadline := time.Now().Add(60 * time.Second)
	for scrapeCounter(metrics, "srctl_shadow_connections_active") > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := scrapeCounter(metrics, "srctl_shadow_connections_active"); got != 0 {
		t.Fatalf("%d sessions still active after their clients left", got)
	}
	for scrapeCounter(metrics, "go_goroutines") > goroutines0+5 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if g := scrapeCounter(metrics, "go_goroutines"); g > goroutines0+5 {
		t.Errorf("goroutines: %d, were %d before the sessions: a leak", g, goroutines0)
	}
	if err := stopProcess(proxy, exited, 30*time.Second); err != nil {
		t.Fatalf("srctl shadow after SIGTERM: %v\n%s", err, perr)
	}
}

// TestShadowRestartWithoutRefusals restarts srctl shadow ten times with SIGUSR2 (each process
// hands its listening socket to its successor, then drains) while a client connects in a loop
// and, during the first restart, a slow query runs on the old process: the query finishes,
// every old process exits 0, and no connection attempt fails.
func TestShadowRestartWithoutRefusals(t *testing.T) {
	paddr, db := "", ""
	if cfg, err := mysql.ParseDSN(testenv.MySQLDSN(t)); err == nil {
		paddr, db = cfg.Addr, cfg.DBName
	}
	// Successors write to the same stderr: a file, not a pipe, so that waiting for one process
	// does not wait for the successors holding the pipe.
	logf, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	t.Cleanup(func() {
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	var listen string
	var firstExited chan error
	for attempt := 1; ; attempt++ {
		listen = testenv.FreeAddr(t)
		argv, _ := json.Marshal([]string{"shadow", "--log-level", "warn", "--listen", listen, "--primary", paddr, "--shadow", paddr,
			"--metrics-addr", testenv.FreeAddr(t), "--drain-timeout", "20s", "--log-sink", t.TempDir()})
		first := exec.Command(os.Args[0], "-test.run=^$")
		first.Env = append(os.Environ(), childEnv+"="+string(argv))
		first.Stderr = logf
		if err := first.Start(); err != nil {
			t.Fatal(err)
		}
		pids = []int{first.Process.Pid}
		firstExited = make(chan error, 1)
		go func() { firstExited <- first.Wait() }()
		err := waitListeningOrExit(listen, firstExited)
		if err == nil {
			break
		}
		out, _ := os.ReadFile(logf.Name())
		// A port FreeAddr found free can be taken before the process binds it (by any outgoing
		// connection on the machine: they draw from the same range): start again on others.
		if attempt < 3 && strings.Contains(string(out), "address already in use") {
			t.Logf("a port was taken before srctl shadow bound it; again on others: %s", out)
			logf.Truncate(0)
			logf.Seek(0, io.SeekStart) // the children share this file's offset
			continue
		}
		t.Fatalf("srctl shadow did not start: %v\n%s", err, out)
	}

	stopLoop := make(chan struct{})
	loopDone := make(chan [2]int)
	go func() {
		var ok, failed int
		for {
			select {
			case <-stopLoop:
				loopDone <- [2]int{ok, failed}
				return
			default:
			}
			c, err := sql.Open("mysql", "root@tcp("+listen+")/"+db)
			if err == nil {
				err = c.Ping()
				c.Close()
			}
			if err != nil {
				failed++
				t.Logf("connection failed during the restarts: %v", err)
			} else {
				ok++
			}
		}
	}()
	slow := make(chan error, 1)
	go func() {
		c, err := sql.Open("mysql", "root@tcp("+listen+")/"+db)
		if err != nil {
			slow <- err
			return
		}
		defer c.Close()
		var v int
		slow <- c.QueryRow("SELECT SLEEP(2)").Scan(&v)
	}()
	time.Sleep(200 * time.Millisecond) // the slow query is running on the first process
	successor := regexp.MustCompile(`successor_pid=(\d+)`)
	for restart := 1; restart <= 10; restart++ {
		cur := pids[len(pids)-1]
		if err := syscall.Kill(cur, syscall.SIGUSR2); err != nil {
			t.Fatalf("restart %d: %v", restart, err)
		}
		var next int
		deadline := time.Now().Add(30 * time.Second)
		for next == 0 {
			out, _ := os.ReadFile(logf.Name())
			if m := successor.FindAllSubmatch(out, -1); len(m) >= restart {
				next, _ = strconv.Atoi(string(m[restart-1][1]))
			}
			if time.Now().After(deadline) {
				t.Fatalf("restart %d: no successor within 30s:\n%s", restart, out)
			}
			time.Sleep(10 * time.Millisecond)
		}
		pids = append(pids, next)
		// The old process drains and exits 0.
		if restart == 1 {
			select {
			case err := <-firstExited:
				if err != nil {
					out, _ := os.ReadFile(logf.Name())
					t.Fatalf("the first process after the hand-over: %v\n%s", err, out)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the first process did not exit within 30s of the hand-over")
			}
			if err := <-slow; err != nil {
				t.Errorf("the query running during the hand-over failed: %v", err)
			}
		} else {
			deadline := time.Now().Add(30 * time.Second)
			for syscall.Kill(cur, 0) == nil {
				if time.Now().After(deadline) {
					t.Fatalf("restart %d: process %d still runs 30s after the hand-over", restart, cur)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	time.Sleep(200 * time.Millisecond)
	close(stopLoop)
	counts := <-loopDone
	t.Logf("10 restarts: %d connections, %d failed", counts[0]+counts[1], counts[1])
	if counts[1] > 0 || counts[0] < 50 {
		out, _ := os.ReadFile(logf.Name())
		t.Errorf("%d of %d connections failed during 10 restarts\n%s", counts[1], counts[0]+counts[1], out)
	}
}
