package mysqlwire

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// awaitPair returns both ends of a loopback TCP connection; the first has a FrameConn with Raw.
func awaitPair(t *testing.T) (*FrameConn, net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	fc := &FrameConn{R: bufio.NewReaderSize(nc, 4096), W: nc, Raw: RawConnOf(nc)}
	if fc.Raw == nil {
		t.Fatal("no RawConn for a TCP connection")
	}
	return fc, nc, peer
}

// TestWriteFrameAwaitingReply: the frame reaches the peer as WriteFrame writes it, meanwhile
// runs once between the write and the answer (the peer answers only after meanwhile said so:
// run after the wait, this would never return), and the answer is then read whole.
func TestWriteFrameAwaitingReply(t *testing.T) {
	fc, _, peer := awaitPair(t)
	release := make(chan struct{})
	got := make(chan []byte, 1)
	go func() {
		pf := &FrameConn{R: bufio.NewReader(peer), W: peer}
		p, seq, err := pf.ReadFrame()
		if err != nil || seq != 3 {
			got <- nil
			return
		}
		got <- append([]byte(nil), p...)
		<-release
		pf.WriteFrame([]byte("answer"), seq+1)
	}()
	runs := 0
	errc := make(chan error, 1)
	go func() {
		errc <- fc.WriteFrameAwaitingReply([]byte("\x03SELECT 1"), 3, func() { runs++; close(release) })
	}()
	awaitCall(t, errc, "WriteFrameAwaitingReply did not return: meanwhile ran after the wait, or the answer was missed")
	if p := <-got; string(p) != "\x03SELECT 1" {
		t.Fatalf("the peer read %q", p)
	}
	if runs != 1 {
		t.Fatalf("meanwhile ran %d times, want 1", runs)
	}
	p, seq, err := fc.ReadFrame()
	if err != nil || string(p) != "answer" || seq != 4 {
		t.Fatalf("answer %q seq %d err %v", p, seq, err)
	}
}

// awaitCall waits for the error of a WriteFrameAwaitingReply running in another goroutine and
// fails the test with hung when it has not returned within a minute (a wait that never ends).
func awaitCall(t *testing.T, errc <-chan error, hung string) {
	t.Helper()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal(hung)
	}
}

// TestWriteFrameAwaitingReplyFailures: a wait that cannot end well leaves its error to the read
// that follows, as a plain read would report it; a write that fails is the call's error; a
// large frame (two writes) is awaited too; meanwhile runs once in every case.
func TestWriteFrameAwaitingReplyFailures(t *testing.T) {
	t.Run("read deadline passed", func(t *testing.T) {
		fc, nc, peer := awaitPair(t)
		nc.SetReadDeadline(time.Now().Add(-time.Second))
		runs := 0
		if err := fc.WriteFrameAwaitingReply([]byte("\x0e"), 0, func() { runs++ }); err != nil {
			t.Fatal(err)
		}
		if runs != 1 {
			t.Fatalf("meanwhile ran %d times", runs)
		}
		var hdr [5]byte
		if _, err := io.ReadFull(peer, hdr[:]); err != nil || !bytes.Equal(hdr[:], []byte{1, 0, 0, 0, 0x0e}) {
			t.Fatalf("the peer read %q, %v: the frame must still be written", hdr, err)
		}
		if _, _, err := fc.ReadFrame(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read after the wait: %v, want the deadline", err)
		}
	})
	t.Run("read deadline passes while waiting", func(t *testing.T) {
		// A shadow that never answers: the mirror's deadline must end the wait.
		fc, nc, peer := awaitPair(t)
		go io.Copy(io.Discard, peer)
		nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		done := make(chan error, 1)
		go func() { done <- fc.WriteFrameAwaitingReply([]byte("\x03SELECT SLEEP(3600)"), 0, nil) }()
		awaitCall(t, done, "the wait outlived the read deadline")
		if _, _, err := fc.ReadFrame(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read after the wait: %v, want the deadline", err)
		}
	})
	t.Run("peer closes without answering", func(t *testing.T) {
		fc, _, peer := awaitPair(t)
		go func() {
			io.ReadFull(peer, make([]byte, 5))
			peer.Close()
		}()
		if err := fc.WriteFrameAwaitingReply([]byte("\x0e"), 0, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := fc.ReadFrame(); !errors.Is(err, io.EOF) {
			t.Fatalf("read after the peer closed: %v, want EOF", err)
		}
	})
	t.Run("connection closed", func(t *testing.T) {
		fc, nc, _ := awaitPair(t)
		nc.Close()
		runs := 0
		if err := fc.WriteFrameAwaitingReply([]byte("\x0e"), 0, func() { runs++ }); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("write on a closed connection: %v", err)
		}
		if runs != 1 {
			t.Fatalf("meanwhile ran %d times", runs)
		}
	})
	t.Run("large frame", func(t *testing.T) {
		fc, _, peer := awaitPair(t)
		big := bytes.Repeat([]byte("x"), 64<<10)
		done := make(chan []byte, 1)
		go func() {
			pf := &FrameConn{R: bufio.NewReader(peer), W: peer}
			p, seq, _ := pf.ReadFrame()
			done <- append([]byte(nil), p...)
			pf.WriteFrame([]byte("answer"), seq+1)
		}()
		runs := 0
		if err := fc.WriteFrameAwaitingReply(big, 0, func() { runs++ }); err != nil {
			t.Fatal(err)
		}
		if p := <-done; !bytes.Equal(p, big) || runs != 1 {
			t.Fatalf("the peer read %d bytes, meanwhile ran %d times", len(p), runs)
		}
		if p, _, err := fc.ReadFrame(); err != nil || string(p) != "answer" {
			t.Fatalf("answer %q: %v", p, err)
		}
	})
}

// TestRawConnOfOnlyPlainConnections: TLS (which buffers records) and other wrappers get no
// RawConn, so their exchanges take the usual path.
func TestRawConnOfOnlyPlainConnections(t *testing.T) {
	_, nc, _ := awaitPair(t)
	if RawConnOf(tls.Client(nc, &tls.Config{})) != nil {
		t.Error("a TLS connection got a RawConn")
	}
	if RawConnOf(&bufConn{}) != nil {
		t.Error("a wrapper got a RawConn")
	}
}

// TestWriteFrameAwaitingReplyAllocatesNothing: the proxy makes an exchange per command; its
// state lives in the FrameConn, not in closures made per call, so an awaited exchange allocates
// no more than WriteFrame then ReadFrame.
func TestWriteFrameAwaitingReplyAllocatesNothing(t *testing.T) {
	fc, _, peer := awaitPair(t)
	answer := []byte("answer")
	go func() {
		pf := &FrameConn{R: bufio.NewReader(peer), W: peer}
		for {
			_, seq, err := pf.ReadFrame()
			if err != nil || pf.WriteFrame(answer, seq+1) != nil {
				return
			}
		}
	}()
	query := []byte("\x03SELECT 1")
	ran := 0
	meanwhile := func() { ran++ }
	exchange := func(await bool) func() {
		return func() {
			var err error
			if await {
				err = fc.WriteFrameAwaitingReply(query, 0, meanwhile)
			} else {
				err = fc.WriteFrame(query, 0)
			}
			if err != nil {
				t.Fatal(err)
			}
			if p, _, err := fc.ReadFrame(); err != nil || string(p) != "answer" {
				t.Fatalf("answer %q: %v", p, err)
			}
		}
	}
	exchange(false)() // the FrameConns' buffers
	exchange(true)()  // and the bound callback
	plain := testing.AllocsPerRun(100, exchange(false))
	awaited := testing.AllocsPerRun(100, exchange(true))
	if awaited > plain {
		t.Errorf("%.1f allocations per awaited exchange, %.1f per plain one", awaited, plain)
	}
	if ran != 102 {
		t.Errorf("meanwhile ran %d times in 102 awaited exchanges", ran)
	}
}
