package mysqlwire

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
)

// pipeConn is a Conn over an in-memory buffer for framing tests.
type bufConn struct {
	net.Conn
	r io.Reader
	w *bytes.Buffer
}

func (b *bufConn) Read(p []byte) (int, error)  { return b.r.Read(p) }
func (b *bufConn) Write(p []byte) (int, error) { return b.w.Write(p) }
func (b *bufConn) Close() error                { return nil }

func TestPacketsRoundTripLargePayloads(t *testing.T) {
	for _, n := range []int{0, 1, maxPayload - 1, maxPayload, maxPayload + 5, 2 * maxPayload} {
		payload := bytes.Repeat([]byte{0xab}, n)
		var wire bytes.Buffer
		w := NewConn(&bufConn{w: &wire}, 1)
		if err := w.WritePacket(payload); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		// A payload of exactly k*16MiB-1... ends with an empty packet: count the headers.
		wantPackets := n/maxPayload + 1
		if got := wire.Len() - n; got != 4*wantPackets {
			t.Errorf("%d bytes: %d header bytes, want %d packets", n, got, wantPackets)
		}
		r := NewConn(&bufConn{r: &wire}, 1)
		got, err := r.ReadPacket()
		if err != nil || !bytes.Equal(got, payload) {
			t.Errorf("%d bytes: read %d, %v", n, len(got), err)
		}
	}
}

func TestReadPacketRejectsOutOfOrder(t *testing.T) {
	wire := bytes.NewReader([]byte{1, 0, 0, 5, 0x0e})
	c := NewConn(&bufConn{r: wire}, 1)
	if _, err := c.ReadPacket(); err == nil {
		t.Error("sequence 5 accepted as the first packet")
	}
}

func TestLenenc(t *testing.T) {
	for _, n := range []uint64{0, 250, 251, 65535, 65536, 1<<24 - 1, 1 << 24, 1 << 40} {
		b := AppendLenenc(nil, n)
		got, size, ok := readLenenc(b)
		if !ok || got != n || size != len(b) {
			t.Errorf("%d: got %d (%d bytes, ok %v)", n, got, size, ok)
		}
	}
}

func TestNativePassword(t *testing.T) {
	scramble := []byte("0123456789abcdefghij")
	h1 := sha1.Sum([]byte("pw"))
	h2 := sha1.Sum(h1[:])
	h := sha1.New()
	h.Write(scramble)
	h.Write(h2[:])
	resp := h.Sum(nil)
	for i := range resp {
		resp[i] ^= h1[i]
	}
	auth := NativePassword("u", "pw")
	if !auth("u", scramble, resp) || auth("u", scramble, resp[:19]) || auth("v", scramble, resp) {
		t.Error("mysql_native_password check")
	}
	if !NativePassword("", "")("anyone", scramble, nil) {
		t.Error("an empty password takes an empty response")
	}
}

// handshakeResponse builds a client's HandshakeResponse41.
func handshakeResponse(caps uint32, user, db string, auth []byte) []byte {
	p := []byte{byte(caps), byte(caps >> 8), byte(caps >> 16), byte(caps >> 24), 0, 0, 0, 1, 45}
	p = append(p, make([]byte, 23)...)
	p = append(p, user...)
	p = append(p, 0)
	p = append(p, byte(len(auth)))
	p = append(p, auth...)
	p = append(p, db...)
	p = append(p, 0)
	return p
}

func TestParseHandshakeResponse(t *testing.T) {
	c := &Conn{}
	caps := ClientProtocol41 | ClientSecureConnection | ClientConnectWithDB | ClientDeprecateEOF
	auth, err := c.parseHandshakeResponse(handshakeResponse(caps, "root", "shop", []byte{1, 2, 3}))
	if err != nil || c.User != "root" || c.DB != "shop" || !bytes.Equal(auth, []byte{1, 2, 3}) || c.caps&ClientDeprecateEOF == 0 {
		t.Errorf("parsed %q %q %v caps %x: %v", c.User, c.DB, auth, c.caps, err)
	}
	if _, err := (&Conn{}).parseHandshakeResponse(handshakeResponse(ClientSecureConnection, "root", "", nil)); err == nil {
		t.Error("a pre-4.1 client was accepted")
	}
}

// FuzzParseHandshakeResponse: a client's first packet is outside input; no input may panic
// or read past the packet.
func FuzzParseHandshakeResponse(f *testing.F) {
	f.Add(handshakeResponse(ClientProtocol41|ClientSecureConnection|ClientConnectWithDB, "root", "test", []byte("12345678901234567890")))
	f.Add(handshakeResponse(ClientProtocol41|ClientPluginAuthLenenc, "u", "", nil))
	f.Add(make([]byte, 32))
	f.Fuzz(func(t *testing.T, p []byte) {
		c := &Conn{}
		auth, err := c.parseHandshakeResponse(p)
		if err == nil && len(auth) > len(p) {
			t.Fatalf("auth response longer than the packet")
		}
	})
}

// FuzzReadPacket: framing of arbitrary bytes never panics and never returns more than it read.
func FuzzReadPacket(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0x0e})
	f.Add([]byte{0xff, 0xff, 0xff, 0, 1, 2})
	f.Fuzz(func(t *testing.T, wire []byte) {
		c := NewConn(&bufConn{r: bytes.NewReader(wire)}, 1)
		p, err := c.ReadPacket()
		if err == nil && len(p) > len(wire) {
			t.Fatalf("payload of %d bytes from %d bytes of input", len(p), len(wire))
		}
	})
}

func FuzzParsePackets(f *testing.F) {
	f.Add([]byte("\x0a5.7.99\x00\x01\x00\x00\x00abcdefgh\x00\xff\xf7\x2d\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00ijklmnopqrst\x00mysql_native_password\x00"))
	f.Add([]byte("\x8d\xa6\x0f\x00\x00\x00\x00\x01\x21\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00root\x00\x00test\x00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		if g, err := ParseGreeting(p); err == nil && g.capsOffset+2 <= len(p) {
			g.SetGreetingCaps(append([]byte(nil), p...), g.Caps)
		}
		ParseHandshakeResponse(p)
		ParseOK(p)
		ParseErr(p, ClientProtocol41)
		ParseEOF(p)
	})
}

// TestFrameMemoryFollowsTheBytes: a header announcing 16 MiB followed by a few bytes costs a
// buffer the size of those bytes, not of the announcement.
func TestFrameMemoryFollowsTheBytes(t *testing.T) {
	in := append([]byte{0xff, 0xff, 0xff, 0}, make([]byte, 1000)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 20 {
		f := &FrameConn{R: bufio.NewReader(bytes.NewReader(in))}
		if _, _, err := f.ReadFrame(); err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("a cut frame: %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("20 frames announcing 16 MiB with 1000 bytes each allocated %d MiB", got>>20)
	}
	f := &FrameConn{R: bufio.NewReader(bytes.NewReader(in))}
	if _, _, err := f.ReadPacketLimit(128 << 10); !errors.Is(err, ErrPacketTooLarge) {
		t.Errorf("ReadPacketLimit over the limit: %v", err)
	}
}
