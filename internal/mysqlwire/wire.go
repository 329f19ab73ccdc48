// Package mysqlwire is the server side of the MySQL client/server protocol, as much of it as a
// test double of a MySQL-protocol server needs: packet framing (with payloads of 16 MiB and
// more split across packets), the v10 handshake with mysql_native_password, the text protocol
// (COM_QUERY, COM_INIT_DB, COM_PING, COM_QUIT) and its OK, ERR, EOF and result-set packets, with
// or without CLIENT_DEPRECATE_EOF.
//
// Not here: TLS, compression, prepared statements (COM_STMT_*, answered with an error), auth
// switching. The code follows the protocol documentation of MySQL (Client/Server Protocol,
// "Connection Phase" and "Text Protocol"); it is written for srctl's tests, not for production
// traffic.
package mysqlwire

import (
	"bufio"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// Capability flags (the subset this package speaks).
const (
	ClientLongPassword     uint32 = 1 << 0
	ClientFoundRows        uint32 = 1 << 1
	ClientLongFlag         uint32 = 1 << 2
	ClientConnectWithDB    uint32 = 1 << 3
	ClientProtocol41       uint32 = 1 << 9
	ClientSSL              uint32 = 1 << 11
	ClientTransactions     uint32 = 1 << 13
	ClientSecureConnection uint32 = 1 << 15
	ClientMultiStatements  uint32 = 1 << 16
	ClientMultiResults     uint32 = 1 << 17
	ClientPluginAuth       uint32 = 1 << 19
	ClientConnectAttrs     uint32 = 1 << 20
	ClientPluginAuthLenenc uint32 = 1 << 21
	ClientDeprecateEOF     uint32 = 1 << 24
)

// serverCaps is what the handshake offers; a session uses what both sides have.
const serverCaps = ClientLongPassword | ClientFoundRows | ClientLongFlag | ClientConnectWithDB | ClientProtocol41 |
	ClientTransactions | ClientSecureConnection | ClientMultiResults | ClientPluginAuth | ClientConnectAttrs |
	ClientPluginAuthLenenc | ClientDeprecateEOF

// Commands (first payload byte of a client packet).
const (
	ComQuit        = 0x01
	ComInitDB      = 0x02
	ComQuery       = 0x03
	ComPing        = 0x0e
	ComStmtPrepare = 0x16
)

// Status flags.
const statusAutocommit uint16 = 0x0002

// maxPayload is the largest payload of one packet; a longer one continues in the next.
const maxPayload = 1<<24 - 1

// Conn is one client connection on the server side.
type Conn struct {
	nc   net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	seq  uint8
	caps uint32 // negotiated
	// User and DB are what the client's handshake response named.
	User string
	DB   string
	ID   uint32
}

// NewConn wraps an accepted connection.
func NewConn(nc net.Conn, id uint32) *Conn {
	return &Conn{nc: nc, r: bufio.NewReaderSize(nc, 16<<10), w: bufio.NewWriterSize(nc, 16<<10), ID: id}
}

// Close closes the network connection.
func (c *Conn) Close() error { return c.nc.Close() }

// ReadPacket reads one logical payload (joining the packets of a payload of 16 MiB or more).
func (c *Conn) ReadPacket() ([]byte, error) {
	var payload []byte
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
			return nil, err
		}
		n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
		if hdr[3] != c.seq {
			return nil, fmt.Errorf("packet out of order: sequence %d, want %d", hdr[3], c.seq)
		}
		c.seq++
		start := len(payload)
		payload = append(payload, make([]byte, n)...)
		if _, err := io.ReadFull(c.r, payload[start:]); err != nil {
			return nil, err
		}
		if n < maxPayload {
			return payload, nil
		}
	}
}

// WritePacket writes a payload, split into packets of at most 16 MiB - 1 (a payload of an
// exact multiple ends with an empty packet, as the protocol requires). It buffers; Flush sends.
func (c *Conn) WritePacket(payload []byte) error {
	for {
		n := min(len(payload), maxPayload)
		hdr := [4]byte{byte(n), byte(n >> 8), byte(n >> 16), c.seq}
		c.seq++
		if _, err := c.w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := c.w.Write(payload[:n]); err != nil {
			return err
		}
		payload = payload[n:]
		if n < maxPayload {
			return nil
		}
	}
}

// Flush sends what was written.
func (c *Conn) Flush() error { return c.w.Flush() }

// ResetSequence starts a new command exchange (the client's command packet is number 0).
func (c *Conn) ResetSequence() { c.seq = 0 }

// Capabilities are the negotiated capability flags.
func (c *Conn) Capabilities() uint32 { return c.caps }

// Authenticator checks a user's mysql_native_password response; nil accepts anyone.
type Authenticator func(user string, scramble, response []byte) bool

// NativePassword accepts user with password (any user when user is ""), checking the
// mysql_native_password response SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))).
func NativePassword(user, password string) Authenticator {
	return func(u string, scramble, response []byte) bool {
		if user != "" && u != user {
			return false
		}
		if password == "" {
			return len(response) == 0
		}
		want, _ := scrambleFor("mysql_native_password", password, scramble, false)
		return subtle.ConstantTimeCompare(want, response) == 1
	}
}

// ErrAccessDenied is returned by Handshake when the authenticator refused the client.
var ErrAccessDenied = errors.New("access denied")

// Handshake runs the connection phase: greeting, the client's response, then OK or an
// access-denied ERR. scramble must be 20 bytes without NULs.
func (c *Conn) Handshake(serverVersion string, scramble []byte, auth Authenticator) error {
	if len(scramble) != 20 {
		return fmt.Errorf("scramble of %d bytes, want 20", len(scramble))
	}
	c.seq = 0
	g := []byte{10}
	g = append(g, serverVersion...)
	g = append(g, 0)
	g = binary.LittleEndian.AppendUint32(g, c.ID)
	g = append(g, scramble[:8]...)
	g = append(g, 0)
	g = binary.LittleEndian.AppendUint16(g, uint16(serverCaps&0xffff))
	g = append(g, 45) // utf8mb4_general_ci
	g = binary.LittleEndian.AppendUint16(g, statusAutocommit)
	g = binary.LittleEndian.AppendUint16(g, uint16(serverCaps>>16))
	g = append(g, 21)
	g = append(g, make([]byte, 10)...)
	g = append(g, scramble[8:]...)
	g = append(g, 0)
	g = append(g, "mysql_native_password"...)
	g = append(g, 0)
	if err := c.WritePacket(g); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		return err
	}
	resp, err := c.ReadPacket()
	if err != nil {
		return fmt.Errorf("reading the handshake response: %w", err)
	}
	authResp, err := c.parseHandshakeResponse(resp)
	if err != nil {
		return err
	}
	if auth != nil && !auth(c.User, scramble, authResp) {
		c.WriteError(1045, "28000", fmt.Sprintf("Access denied for user '%s'", c.User))
		c.Flush()
		return ErrAccessDenied
	}
	if err := c.WriteOK(0, 0); err != nil {
		return err
	}
	return c.Flush()
}

func (c *Conn) parseHandshakeResponse(p []byte) ([]byte, error) {
	bad := func(what string) error { return fmt.Errorf("malformed handshake response: %s", what) }
	if len(p) < 32 {
		return nil, bad("too short")
	}
	clientCaps := binary.LittleEndian.Uint32(p)
	if clientCaps&ClientProtocol41 == 0 {
		return nil, bad("the client does not speak protocol 4.1")
	}
	if clientCaps&ClientSSL != 0 && len(p) == 32 {
		return nil, bad("the client asked for TLS, which this server does not offer")
	}
	c.caps = clientCaps & serverCaps
	rest := p[32:]
	user, rest, ok := cutNul(rest)
	if !ok {
		return nil, bad("user name")
	}
	c.User = string(user)
	var authResp []byte
	switch {
	case clientCaps&ClientPluginAuthLenenc != 0:
		n, size, ok := readLenenc(rest)
		if !ok || uint64(len(rest)-size) < n {
			return nil, bad("auth response")
		}
		authResp, rest = rest[size:size+int(n)], rest[size+int(n):]
	case clientCaps&ClientSecureConnection != 0:
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return nil, bad("auth response")
		}
		authResp, rest = rest[1:1+int(rest[0])], rest[1+int(rest[0]):]
	default:
		authResp, rest, ok = cutNul(rest)
		if !ok {
			return nil, bad("auth response")
		}
	}
	if clientCaps&ClientConnectWithDB != 0 && len(rest) > 0 {
		db, _, ok := cutNul(rest)
		if !ok {
			return nil, bad("database")
		}
		c.DB = string(db)
	}
	return authResp, nil
}

func cutNul(b []byte) (before, after []byte, ok bool) {
	for i, x := range b {
		if x == 0 {
			return b[:i], b[i+1:], true
		}
	}
	return nil, nil, false
}

// readLenenc reads a length-encoded integer: its value and how many bytes it took.
func readLenenc(b []byte) (uint64, int, bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch b[0] {
	case 0xfc:
		if len(b) < 3 {
			return 0, 0, false
		}
		return uint64(binary.LittleEndian.Uint16(b[1:])), 3, true
	case 0xfd:
		if len(b) < 4 {
			return 0, 0, false
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, 4, true
	case 0xfe:
		if len(b) < 9 {
			return 0, 0, false
		}
		return binary.LittleEndian.Uint64(b[1:]), 9, true
	case 0xfb, 0xff:
		return 0, 0, false
	}
	return uint64(b[0]), 1, true
}

// AppendLenenc appends a length-encoded integer.
func AppendLenenc(b []byte, n uint64) []byte {
	switch {
	case n < 251:
		return append(b, byte(n))
	case n < 1<<16:
		return binary.LittleEndian.AppendUint16(append(b, 0xfc), uint16(n))
	case n < 1<<24:
		return append(b, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	}
	return binary.LittleEndian.AppendUint64(append(b, 0xfe), n)
}

// AppendLenencString appends a length-encoded string.
func AppendLenencString(b []byte, s []byte) []byte {
	return append(AppendLenenc(b, uint64(len(s))), s...)
}

// WriteOK writes an OK packet.
func (c *Conn) WriteOK(affected, lastInsertID uint64) error {
	p := []byte{0x00}
	p = AppendLenenc(p, affected)
	p = AppendLenenc(p, lastInsertID)
	p = binary.LittleEndian.AppendUint16(p, statusAutocommit)
	p = binary.LittleEndian.AppendUint16(p, 0)
	return c.WritePacket(p)
}

// WriteError writes an ERR packet with the server's code, SQLSTATE and message.
func (c *Conn) WriteError(code uint16, sqlState, msg string) error {
	if len(sqlState) != 5 {
		sqlState = "HY000"
	}
	p := []byte{0xff}
	p = binary.LittleEndian.AppendUint16(p, code)
	p = append(p, '#')
	p = append(p, sqlState...)
	p = append(p, msg...)
	return c.WritePacket(p)
}

// writeEOF ends column definitions or rows: an EOF packet, or with CLIENT_DEPRECATE_EOF an
// OK packet with the EOF header.
func (c *Conn) writeEOF() error {
	if c.caps&ClientDeprecateEOF != 0 {
		p := []byte{0xfe, 0, 0}
		p = binary.LittleEndian.AppendUint16(p, statusAutocommit)
		p = binary.LittleEndian.AppendUint16(p, 0)
		return c.WritePacket(p)
	}
	p := []byte{0xfe, 0, 0}
	p = binary.LittleEndian.AppendUint16(p, statusAutocommit)
	return c.WritePacket(p)
}

// Column describes a result column of the text protocol.
type Column struct {
	Name     string
	Type     byte   // a MySQL field type (TypeLong, TypeVarString, ...)
	Flags    uint16 // e.g. FlagUnsigned
	Decimals byte
	Length   uint32
}

// Field types and flags used by the double.
const (
	TypeDecimal    byte = 0x00
	TypeTiny       byte = 0x01
	TypeShort      byte = 0x02
	TypeLong       byte = 0x03
	TypeFloat      byte = 0x04
	TypeDouble     byte = 0x05
	TypeNull       byte = 0x06
	TypeTimestamp  byte = 0x07
	TypeLongLong   byte = 0x08
	TypeInt24      byte = 0x09
	TypeDate       byte = 0x0a
	TypeTime       byte = 0x0b
	TypeDateTime   byte = 0x0c
	TypeYear       byte = 0x0d
	TypeBit        byte = 0x10
	TypeJSON       byte = 0xf5
	TypeNewDecimal byte = 0xf6
	TypeBlob       byte = 0xfc
	TypeVarString  byte = 0xfd
	TypeString     byte = 0xfe

	FlagUnsigned uint16 = 0x0020
	FlagBinary   uint16 = 0x0080
)

// WriteColumns starts a result set: the column count, the definitions and (without
// CLIENT_DEPRECATE_EOF) an EOF.
func (c *Conn) WriteColumns(cols []Column) error {
	if err := c.WritePacket(AppendLenenc(nil, uint64(len(cols)))); err != nil {
		return err
	}
	for _, col := range cols {
		p := AppendLenencString(nil, []byte("def"))
		p = AppendLenencString(p, nil) // schema
		p = AppendLenencString(p, nil) // table
		p = AppendLenencString(p, nil) // org_table
		p = AppendLenencString(p, []byte(col.Name))
		p = AppendLenencString(p, []byte(col.Name))
		p = append(p, 0x0c)
		charset := uint16(45) // utf8mb4
		if col.Flags&FlagBinary != 0 {
			charset = 63
		}
		p = binary.LittleEndian.AppendUint16(p, charset)
		p = binary.LittleEndian.AppendUint32(p, col.Length)
		p = append(p, col.Type)
		p = binary.LittleEndian.AppendUint16(p, col.Flags)
		p = append(p, col.Decimals, 0, 0)
		if err := c.WritePacket(p); err != nil {
			return err
		}
	}
	if c.caps&ClientDeprecateEOF == 0 {
		return c.writeEOF()
	}
	return nil
}

// WriteRow writes one text-protocol row; a nil value is NULL.
func (c *Conn) WriteRow(vals [][]byte) error {
	var p []byte
	for _, v := range vals {
		if v == nil {
			p = append(p, 0xfb)
			continue
		}
		p = AppendLenencString(p, v)
	}
	return c.WritePacket(p)
}

// EndRows ends a result set.
func (c *Conn) EndRows() error { return c.writeEOF() }
