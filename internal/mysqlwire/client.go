package mysqlwire

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net"
	"strings"
	"syscall"
)

// More capability flags (the client side and the proxy need them).
const (
	ClientLocalFiles       uint32 = 1 << 7
	ClientCompress         uint32 = 1 << 5
	ClientInteractive      uint32 = 1 << 10
	ClientPSMultiResults   uint32 = 1 << 18
	ClientSessionTrack     uint32 = 1 << 23
	ClientZstdCompression  uint32 = 1 << 26
	ClientQueryAttributes  uint32 = 1 << 27
	ClientProgressMariaDB  uint32 = 1 << 29 // MariaDB's CLIENT_PROGRESS (obsolete bit in MySQL)
	ClientMySQL            uint32 = 1 << 0  // MariaDB reads bit 0 in a server greeting as "MySQL, not MariaDB"
	maxPacketSizeAdvertise        = 1 << 24
)

// MariaDB's extended capabilities, carried in the last 4 reserved bytes of the greeting and of
// the handshake response when the server does not set CLIENT_MYSQL.
const (
	MariaDBProgress        uint32 = 1 << 0
	MariaDBComMulti        uint32 = 1 << 1
	MariaDBStmtBulk        uint32 = 1 << 2
	MariaDBExtendedMeta    uint32 = 1 << 3
	MariaDBCacheMetadata   uint32 = 1 << 4
	MariaDBBulkUnitResults uint32 = 1 << 6
)

// Greeting is a parsed server greeting (Protocol::HandshakeV10).
type Greeting struct {
	ServerVersion string
	ConnID        uint32
	Scramble      []byte // 20 bytes for the usual plugins
	Caps          uint32
	ExtCaps       uint32 // MariaDB extended capabilities (0 from MySQL)
	Charset       byte
	Status        uint16
	AuthPlugin    string
	capsOffset    int // where the low capability bytes sit in the payload
	upperOffset   int // where the high capability bytes sit
}

// ParseGreeting parses a greeting payload.
func ParseGreeting(p []byte) (*Greeting, error) {
	bad := func(what string) error { return fmt.Errorf("malformed server greeting: %s", what) }
	if len(p) < 1 {
		return nil, bad("empty")
	}
	if p[0] == 0xff {
		e := ParseErr(p, ClientProtocol41)
		return nil, e
	}
	if p[0] != 10 {
		return nil, bad(fmt.Sprintf("protocol version %d, want 10", p[0]))
	}
	g := &Greeting{}
	ver, rest, ok := cutNul(p[1:])
	if !ok {
		return nil, bad("server version")
	}
	g.ServerVersion = string(ver)
	if len(rest) < 4+8+1+2 {
		return nil, bad("too short")
	}
	g.ConnID = binary.LittleEndian.Uint32(rest)
	g.Scramble = append([]byte(nil), rest[4:12]...)
	g.capsOffset = len(p) - len(rest) + 13
	g.Caps = uint32(binary.LittleEndian.Uint16(rest[13:]))
	rest = rest[15:]
	if len(rest) < 1+2+2+1+10 {
		return g, nil // a pre-4.1 server: nothing more
	}
	g.Charset = rest[0]
	g.Status = binary.LittleEndian.Uint16(rest[1:])
	g.upperOffset = len(p) - len(rest) + 3
	g.Caps |= uint32(binary.LittleEndian.Uint16(rest[3:])) << 16
	authLen := int(rest[5])
	if g.Caps&ClientMySQL == 0 {
		g.ExtCaps = binary.LittleEndian.Uint32(rest[12:16])
	}
	rest = rest[16:]
	if g.Caps&ClientSecureConnection != 0 {
		n := max(13, authLen-8)
		if len(rest) < n {
			return nil, bad("scramble")
		}
		part := rest[:n]
		if part[len(part)-1] == 0 {
			part = part[:len(part)-1]
		}
		g.Scramble = append(g.Scramble, part...)
		rest = rest[n:]
	}
	if g.Caps&ClientPluginAuth != 0 {
		name, _, ok := cutNul(rest)
		if !ok {
			name = rest // some servers omit the final NUL
		}
		g.AuthPlugin = string(name)
	}
	return g, nil
}

// SetGreetingCaps rewrites the capability flags of greeting payload p in place (p must be the
// payload g was parsed from). The proxy uses it to offer or withdraw CLIENT_SSL.
func (g *Greeting) SetGreetingCaps(p []byte, caps uint32) {
	binary.LittleEndian.PutUint16(p[g.capsOffset:], uint16(caps))
	if g.upperOffset > 0 {
		binary.LittleEndian.PutUint16(p[g.upperOffset:], uint16(caps>>16))
	}
	g.Caps = caps
}

// HandshakeResponse is a parsed Protocol::HandshakeResponse41 (or an SSLRequest, which is its
// first 32 bytes).
type HandshakeResponse struct {
	Caps       uint32
	MaxPacket  uint32
	Charset    byte
	ExtCaps    uint32
	User       string
	AuthResp   []byte
	DB         string
	AuthPlugin string
	SSLRequest bool // only the 32-byte prefix: the client asks for TLS first
}

// ParseHandshakeResponse parses a client's handshake response (or SSL request).
func ParseHandshakeResponse(p []byte) (*HandshakeResponse, error) {
	bad := func(what string) error { return fmt.Errorf("malformed handshake response: %s", what) }
	if len(p) < 32 {
		return nil, bad("too short")
	}
	h := &HandshakeResponse{Caps: binary.LittleEndian.Uint32(p), MaxPacket: binary.LittleEndian.Uint32(p[4:]), Charset: p[8]}
	if h.Caps&ClientProtocol41 == 0 {
		return nil, bad("the client does not speak protocol 4.1")
	}
	if h.Caps&ClientMySQL == 0 {
		h.ExtCaps = binary.LittleEndian.Uint32(p[28:32])
	}
	if len(p) == 32 {
		if h.Caps&ClientSSL == 0 {
			return nil, bad("32 bytes without CLIENT_SSL")
		}
		h.SSLRequest = true
		return h, nil
	}
	rest := p[32:]
	user, rest, ok := cutNul(rest)
	if !ok {
		return nil, bad("user name")
	}
	h.User = string(user)
	switch {
	case h.Caps&ClientPluginAuthLenenc != 0:
		n, size, ok := readLenenc(rest)
		if !ok || uint64(len(rest)-size) < n {
			return nil, bad("auth response")
		}
		h.AuthResp, rest = rest[size:size+int(n)], rest[size+int(n):]
	case h.Caps&ClientSecureConnection != 0:
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return nil, bad("auth response")
		}
		h.AuthResp, rest = rest[1:1+int(rest[0])], rest[1+int(rest[0]):]
	default:
		h.AuthResp, rest, ok = cutNul(rest)
		if !ok {
			return nil, bad("auth response")
		}
	}
	if h.Caps&ClientConnectWithDB != 0 && len(rest) > 0 {
		db, r, ok := cutNul(rest)
		if !ok {
			return nil, bad("database")
		}
		h.DB, rest = string(db), r
	}
	if h.Caps&ClientPluginAuth != 0 && len(rest) > 0 {
		name, _, ok := cutNul(rest)
		if !ok {
			name = rest
		}
		h.AuthPlugin = string(name)
	}
	return h, nil
}

// ServerError is an ERR packet.
type ServerError struct {
	Code     uint16
	SQLState string
	Message  string
}

func (e *ServerError) Error() string {
	if e.SQLState != "" {
		return fmt.Sprintf("Error %d (%s): %s", e.Code, e.SQLState, e.Message)
	}
	return fmt.Sprintf("Error %d: %s", e.Code, e.Message)
}

// ParseErr parses an ERR packet payload (first byte 0xff).
func ParseErr(p []byte, caps uint32) *ServerError {
	e := &ServerError{}
	if len(p) >= 3 {
		e.Code = binary.LittleEndian.Uint16(p[1:])
		rest := p[3:]
		if caps&ClientProtocol41 != 0 && len(rest) >= 6 && rest[0] == '#' {
			e.SQLState, rest = string(rest[1:6]), rest[6:]
		}
		e.Message = string(rest)
	}
	return e
}

// OK is a parsed OK packet (or an EOF packet, which carries only the status).
type OK struct {
	AffectedRows uint64
	LastInsertID uint64
	Status       uint16
	Warnings     uint16
}

// Status flags a proxy reads.
const (
	StatusMoreResultsExist uint16 = 0x0008
	StatusCursorExists     uint16 = 0x0040
)

// ParseOK parses an OK payload (header 0x00, or 0xfe when it ends rows under
// CLIENT_DEPRECATE_EOF); ok is false when it is malformed.
func ParseOK(p []byte) (OK, bool) {
	var r OK
	if len(p) < 1 {
		return r, false
	}
	rest := p[1:]
	var n int
	var ok bool
	if r.AffectedRows, n, ok = readLenenc(rest); !ok {
		return r, false
	}
	rest = rest[n:]
	if r.LastInsertID, n, ok = readLenenc(rest); !ok {
		return r, false
	}
	rest = rest[n:]
	if len(rest) >= 2 {
		r.Status = binary.LittleEndian.Uint16(rest)
	}
	if len(rest) >= 4 {
		r.Warnings = binary.LittleEndian.Uint16(rest[2:])
	}
	return r, true
}

// ParseEOF parses a (pre-DEPRECATE_EOF) EOF payload: 0xfe, warnings, status.
func ParseEOF(p []byte) OK {
	var r OK
	if len(p) >= 5 {
		r.Warnings = binary.LittleEndian.Uint16(p[1:])
		r.Status = binary.LittleEndian.Uint16(p[3:])
	}
	return r
}

// ReadLenenc reads a length-encoded integer: value, bytes used, ok.
func ReadLenenc(b []byte) (uint64, int, bool) { return readLenenc(b) }

// ClientConfig opens a session as a client (the proxy's session on the shadow).
type ClientConfig struct {
	User     string
	Password string
	DB       string
	Charset  byte   // collation id sent in the handshake; 0 keeps the server's default
	Caps     uint32 // capabilities wanted; the session gets those the server also has
	ExtCaps  uint32 // MariaDB extended capabilities wanted
	TLS      *tls.Config
}

// ClientConn is an authenticated client session. Reads go through R.
type ClientConn struct {
	NC       net.Conn
	R        *bufio.Reader
	Caps     uint32
	ExtCaps  uint32
	Greeting *Greeting
}

// clientBaseCaps are always asked for.
const clientBaseCaps = ClientLongPassword | ClientLongFlag | ClientProtocol41 | ClientTransactions |
	ClientSecureConnection | ClientPluginAuth | ClientPluginAuthLenenc

// Connect runs the client side of the connection phase on nc: greeting, optional TLS upgrade,
// handshake response, authentication with mysql_native_password or caching_sha2_password (the
// latter's full authentication only over TLS), auth switches. On an ERR it returns a
// *ServerError. nc is not closed on failure.
func Connect(nc net.Conn, cfg ClientConfig) (*ClientConn, error) {
	fr := &FrameConn{R: bufio.NewReaderSize(nc, 4096), W: nc}
	p, _, err := fr.ReadPacket()
	if err != nil {
		return nil, fmt.Errorf("reading the greeting: %w", err)
	}
	g, err := ParseGreeting(p)
	if err != nil {
		return nil, err
	}
	caps := (cfg.Caps | clientBaseCaps) & g.Caps &^ (ClientSSL | ClientCompress | ClientLocalFiles | ClientQueryAttributes)
	if cfg.DB != "" {
		caps |= ClientConnectWithDB & g.Caps
	} else {
		caps &^= ClientConnectWithDB
	}
	ext := cfg.ExtCaps & g.ExtCaps
	charset := cfg.Charset
	if charset == 0 {
		charset = g.Charset
	}
	seq := uint8(1)
	cc := &ClientConn{NC: nc, Greeting: g}
	if cfg.TLS != nil {
		if g.Caps&ClientSSL == 0 {
			return nil, errors.New("the server does not offer TLS")
		}
		caps |= ClientSSL
		req := make([]byte, 32)
		binary.LittleEndian.PutUint32(req, caps)
		binary.LittleEndian.PutUint32(req[4:], maxPacketSizeAdvertise)
		req[8] = charset
		if g.Caps&ClientMySQL == 0 {
			binary.LittleEndian.PutUint32(req[28:], ext)
		}
		if err := fr.WriteFrames(req, seq); err != nil {
			return nil, err
		}
		seq++
		tc := tls.Client(nc, cfg.TLS)
		if err := tc.Handshake(); err != nil {
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		cc.NC = tc
		fr = &FrameConn{R: bufio.NewReaderSize(tc, 4096), W: tc}
	}
	plugin := g.AuthPlugin
	if plugin == "" {
		plugin = "mysql_native_password"
	}
	authResp, err := scrambleFor(plugin, cfg.Password, g.Scramble, cfg.TLS != nil)
	if err != nil {
		return nil, err
	}
	resp := make([]byte, 32, 128)
	binary.LittleEndian.PutUint32(resp, caps)
	binary.LittleEndian.PutUint32(resp[4:], maxPacketSizeAdvertise)
	resp[8] = charset
	if g.Caps&ClientMySQL == 0 {
		binary.LittleEndian.PutUint32(resp[28:], ext)
	}
	resp = append(append(resp, cfg.User...), 0)
	resp = AppendLenencString(resp, authResp)
	if caps&ClientConnectWithDB != 0 {
		resp = append(append(resp, cfg.DB...), 0)
	}
	resp = append(append(resp, plugin...), 0)
	if err := fr.WriteFrames(resp, seq); err != nil {
		return nil, err
	}
	// The next number comes from each answer: the server numbers the exchange.
	for range 8 { // an exchange longer than this is not one of the plugins spoken here
		p, s, err := fr.ReadPacket()
		if err != nil {
			return nil, fmt.Errorf("authenticating: %w", err)
		}
		seq = s + 1
		switch {
		case len(p) > 0 && p[0] == 0x00:
			cc.Caps, cc.ExtCaps = caps, ext
			cc.R = fr.R
			return cc, nil
		case len(p) > 0 && p[0] == 0xff:
			return nil, ParseErr(p, caps)
		case len(p) > 0 && p[0] == 0xfe: // auth switch request: plugin name, new scramble
			name, data, ok := cutNul(p[1:])
			if !ok {
				name, data = p[1:], nil
			}
			if len(data) > 0 && data[len(data)-1] == 0 {
				data = data[:len(data)-1]
			}
			plugin = string(name)
			r, err := scrambleFor(plugin, cfg.Password, data, cfg.TLS != nil)
			if err != nil {
				return nil, err
			}
			if err := fr.WriteFrames(r, seq); err != nil {
				return nil, err
			}
		case len(p) == 2 && p[0] == 0x01 && p[1] == 0x03: // caching_sha2: fast auth succeeded, OK follows
		case len(p) == 2 && p[0] == 0x01 && p[1] == 0x04: // caching_sha2: full authentication
			if cfg.TLS == nil {
				return nil, errors.New("caching_sha2_password wants full authentication, which srctl only does over TLS")
			}
			if err := fr.WriteFrames(append([]byte(cfg.Password), 0), seq); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unexpected packet 0x%02x during authentication (plugin %s)", firstByte(p), plugin)
		}
	}
	return nil, errors.New("authentication did not finish")
}

func firstByte(p []byte) byte {
	if len(p) == 0 {
		return 0
	}
	return p[0]
}

// scrambleFor computes the auth response of plugin.
func scrambleFor(plugin, password string, scramble []byte, overTLS bool) ([]byte, error) {
	if password == "" {
		return nil, nil
	}
	switch plugin {
	case "mysql_native_password":
		h1 := sha1.Sum([]byte(password))
		h2 := sha1.Sum(h1[:])
		h := sha1.New()
		h.Write(scramble)
		h.Write(h2[:])
		out := h.Sum(nil)
		for i := range out {
			out[i] ^= h1[i]
		}
		return out, nil
	case "caching_sha2_password":
		m1 := sha256.Sum256([]byte(password))
		m2 := sha256.Sum256(m1[:])
		h := sha256.New()
		h.Write(m2[:])
		h.Write(scramble)
		out := h.Sum(nil)
		for i := range out {
			out[i] ^= m1[i]
		}
		return out, nil
	case "mysql_clear_password":
		if !overTLS {
			return nil, errors.New("the server asks for mysql_clear_password, which srctl only sends over TLS")
		}
		return append([]byte(password), 0), nil
	}
	return nil, fmt.Errorf("authentication plugin %q is not supported (mysql_native_password, caching_sha2_password)", strings.TrimSpace(plugin))
}

// MaxFramePayload is the largest payload of one frame; a longer logical packet continues in
// the next frame, and one of an exact multiple ends with an empty frame.
const MaxFramePayload = maxPayload

// FrameConn reads and writes packet frames on a connection without the sequence bookkeeping
// of Conn: the proxy relays frames and keeps the numbers the peers chose.
type FrameConn struct {
	R   *bufio.Reader
	W   interface{ Write([]byte) (int, error) }
	buf []byte
	// hdr (reads) and out (writes) are here, not on the stack, so that a frame costs no
	// allocation: a header read through io.ReadFull escapes, and out collects a small frame for
	// one write. A FrameConn is used by one goroutine at a time.
	hdr [4]byte
	out []byte
	// Raw, when set (RawConnOf), is the connection R reads and W writes, for
	// WriteFrameAwaitingReply.
	Raw   syscall.RawConn
	await awaitState
}

// keepBuffer is the largest frame buffer kept between reads (it grows to the frames read, in
// powers of two); larger frames get a buffer of their own.
const keepBuffer = 64 << 10

// ReadFrame reads one frame. The payload aliases a buffer reused by the next read.
func (f *FrameConn) ReadFrame() (payload []byte, seq uint8, err error) {
	return f.readFrame(maxPayload)
}

// ErrPacketTooLarge is returned by the limited reads for a packet longer than the limit.
var ErrPacketTooLarge = errors.New("packet larger than allowed here")

// readFrame reads one frame of at most limit bytes. Memory follows the bytes that arrive, not
// the length the header announces: a peer that sends a header for 16 MiB and then nothing
// costs a small buffer, not 16 MiB.
func (f *FrameConn) readFrame(limit int) (payload []byte, seq uint8, err error) {
	hdr := f.hdr[:]
	if _, err := io.ReadFull(f.R, hdr); err != nil {
		return nil, 0, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n > limit {
		return nil, 0, fmt.Errorf("frame of %d bytes: %w (%d)", n, ErrPacketTooLarge, limit)
	}
	var b []byte
	switch {
	case n <= cap(f.buf):
		b = f.buf[:n]
	case n <= keepBuffer:
		f.buf = make([]byte, max(512, 1<<bits.Len(uint(n-1))))
		b = f.buf[:n]
	default:
		// Grow by doubling as the bytes come in.
		b = make([]byte, 0, keepBuffer)
		for len(b) < n {
			if len(b) == cap(b) {
				nb := make([]byte, len(b), min(2*cap(b), n))
				copy(nb, b)
				b = nb
			}
			m, err := f.R.Read(b[len(b):min(cap(b), n)])
			b = b[:len(b)+m]
			if err != nil && len(b) < n {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, 0, fmt.Errorf("frame of %d bytes cut short: %w", n, err)
			}
		}
		return b, hdr[3], nil
	}
	if _, err := io.ReadFull(f.R, b); err != nil {
		return nil, 0, fmt.Errorf("frame of %d bytes cut short: %w", n, err)
	}
	return b, hdr[3], nil
}

// Shrink drops the read buffer when it has grown beyond limit bytes, so that a connection
// that once read a large frame does not keep the memory while idle.
func (f *FrameConn) Shrink(limit int) {
	if cap(f.buf) > limit {
		f.buf = nil
	}
}

// ReadPacket reads a logical packet, joining continuation frames; it returns the sequence
// number of the last frame. The payload is the caller's (not reused).
func (f *FrameConn) ReadPacket() ([]byte, uint8, error) {
	return f.ReadPacketLimit(1<<31 - 1)
}

// ReadPacketLimit is ReadPacket for a packet of at most limit bytes; a longer one is refused
// with ErrPacketTooLarge as soon as a frame header announces it, before its bytes are read.
func (f *FrameConn) ReadPacketLimit(limit int) ([]byte, uint8, error) {
	var out []byte
	for {
		p, seq, err := f.readFrame(min(maxPayload, limit-len(out)))
		if err != nil {
			return nil, 0, err
		}
		out = append(out, p...)
		if len(p) < maxPayload {
			if out == nil {
				out = []byte{}
			}
			return out, seq, nil
		}
	}
}

// WriteFrames writes payload as frames numbered from seq.
func (f *FrameConn) WriteFrames(payload []byte, seq uint8) error {
	if len(payload) > keepBuffer {
		_, err := f.W.Write(AppendFrames(nil, payload, seq))
		return err
	}
	f.out = AppendFrames(f.out[:0], payload, seq)
	_, err := f.W.Write(f.out)
	f.keepOut()
	return err
}

// keepOut drops the write buffer after a large write: an idle connection keeps a small one.
func (f *FrameConn) keepOut() {
	if cap(f.out) > 4<<10+4 {
		f.out = nil
	}
}

// WriteFrame writes exactly one frame (a relayed frame of a longer packet included).
func (f *FrameConn) WriteFrame(p []byte, seq uint8) error {
	if len(p) > maxPayload {
		return fmt.Errorf("frame of %d bytes: at most %d", len(p), maxPayload)
	}
	hdr := [4]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), seq}
	if len(p) <= 4096 { // one write for the usual small command
		f.out = append(append(f.out[:0], hdr[:]...), p...)
		_, err := f.W.Write(f.out)
		return err
	}
	f.out = append(f.out[:0], hdr[:]...) // not f.hdr, which reads use
	if _, err := f.W.Write(f.out); err != nil {
		return err
	}
	_, err := f.W.Write(p)
	return err
}

// AppendFrames appends payload framed as packets numbered from seq.
func AppendFrames(dst, payload []byte, seq uint8) []byte {
	for {
		n := min(len(payload), maxPayload)
		dst = append(dst, byte(n), byte(n>>8), byte(n>>16), seq)
		dst = append(dst, payload[:n]...)
		seq++
		payload = payload[n:]
		if n < maxPayload {
			return dst
		}
	}
}
