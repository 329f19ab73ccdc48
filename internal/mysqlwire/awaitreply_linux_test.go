package mysqlwire

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// awaitPeerEnv makes the test binary a peer for TestAwaitingReplySavesARead: it connects to
// the address, and answers every frame after a pause.
const awaitPeerEnv = "SRCTL_MYSQLWIRE_AWAIT_PEER"

func TestMain(m *testing.M) {
	if addr := os.Getenv(awaitPeerEnv); addr != "" {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			os.Exit(2)
		}
		pf := &FrameConn{R: bufio.NewReader(nc), W: nc}
		for {
			_, seq, err := pf.ReadFrame()
			if err != nil {
				os.Exit(0)
			}
			time.Sleep(time.Millisecond) // the server at work: the answer is not there at once
			if pf.WriteFrame([]byte("\x00\x00\x00\x02\x00\x00\x00"), seq+1) != nil {
				os.Exit(0)
			}
		}
	}
	os.Exit(m.Run())
}

// readSyscalls is this process's read system calls so far (/proc/self/io syscr, EAGAINs included).
func readSyscalls(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "syscr: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	t.Fatal("no syscr in /proc/self/io")
	return 0
}

// TestAwaitingReplySavesARead: with the peer in a process of its own (its reads are not
// counted), an exchange through WriteFrameAwaitingReply costs one read system call where
// WriteFrame then ReadFrame costs two (the first finds nothing yet). What counts is the
// kernel's own count, not a claim.
func TestAwaitingReplySavesARead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer := exec.Command(os.Args[0], "-test.run=^$")
	peer.Env = append(os.Environ(), awaitPeerEnv+"="+ln.Addr().String())
	if err := peer.Start(); err != nil {
		t.Fatal(err)
	}
	defer peer.Wait()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fc := &FrameConn{R: bufio.NewReaderSize(nc, 4096), W: nc, Raw: RawConnOf(nc)}
	const n = 200
	exchange := func(await bool) float64 {
		before := readSyscalls(t)
		for range n {
			var err error
			if await {
				err = fc.WriteFrameAwaitingReply([]byte("\x03SELECT 1"), 0, nil)
			} else {
				err = fc.WriteFrame([]byte("\x03SELECT 1"), 0)
			}
			if err != nil {
				t.Fatal(err)
			}
			if p, _, err := fc.ReadFrame(); err != nil || len(p) != 7 {
				t.Fatalf("answer %q: %v", p, err)
			}
		}
		return float64(readSyscalls(t)-before-2) / n // the two reads of /proc/self/io
	}
	plain, awaited := exchange(false), exchange(true)
	t.Logf("read system calls per exchange: %.2f plain, %.2f awaiting the reply", plain, awaited)
	if plain < 1.5 {
		t.Fatalf("the plain exchange took %.2f reads: the peer's pause no longer makes the first read come too early, so this test proves nothing", plain)
	}
	if awaited > 1.1 {
		t.Fatalf("awaiting the reply took %.2f reads per exchange, want 1", awaited)
	}
}
