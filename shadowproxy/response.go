package shadowproxy

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/cespare/xxhash/v2"

	"github.com/srctl/srctl/internal/mysqlwire"
)

// Command bytes the proxy tells apart (first payload byte of a client packet).
const (
	comQuit             = 0x01
	comInitDB           = 0x02
	comQuery            = 0x03
	comFieldList        = 0x04
	comStatistics       = 0x09
	comProcessKill      = 0x0c
	comPing             = 0x0e
	comChangeUser       = 0x11
	comStmtPrepare      = 0x16
	comStmtExecute      = 0x17
	comStmtSendLongData = 0x18
	comStmtClose        = 0x19
	comStmtReset        = 0x1a
	comSetOption        = 0x1b
	comStmtFetch        = 0x1c
	comResetConnection  = 0x1f
	comStmtBulkExecute  = 0xfa // MariaDB
)

var commandNames = map[byte]string{
	0x00: "COM_SLEEP", comQuit: "COM_QUIT", comInitDB: "COM_INIT_DB", comQuery: "COM_QUERY",
	comFieldList: "COM_FIELD_LIST", 0x05: "COM_CREATE_DB", 0x06: "COM_DROP_DB", 0x07: "COM_REFRESH",
	0x08: "COM_SHUTDOWN", comStatistics: "COM_STATISTICS", 0x0a: "COM_PROCESS_INFO", 0x0b: "COM_CONNECT",
	comProcessKill: "COM_PROCESS_KILL", 0x0d: "COM_DEBUG", comPing: "COM_PING", comChangeUser: "COM_CHANGE_USER",
	comStmtPrepare: "COM_STMT_PREPARE", comStmtExecute: "COM_STMT_EXECUTE",
	comStmtSendLongData: "COM_STMT_SEND_LONG_DATA", comStmtClose: "COM_STMT_CLOSE", comStmtReset: "COM_STMT_RESET",
	comSetOption: "COM_SET_OPTION", comStmtFetch: "COM_STMT_FETCH", comResetConnection: "COM_RESET_CONNECTION",
	comStmtBulkExecute: "COM_STMT_BULK_EXECUTE",
}

func commandName(c byte) string {
	if n, ok := commandNames[c]; ok {
		return n
	}
	return fmt.Sprintf("COM_0x%02x", c)
}

// expect is the shape of the response a command gets.
type expect uint8

const (
	expectNone      expect = iota // no response (COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA)
	expectOne                     // a single packet: OK, ERR, EOF or a string (COM_STATISTICS)
	expectResult                  // OK, ERR, LOCAL INFILE request or result sets (COM_QUERY, COM_STMT_EXECUTE)
	expectPrepare                 // COM_STMT_PREPARE's OK with parameter and column definitions, or ERR
	expectFieldList               // column definitions up to EOF, or ERR
	expectRows                    // rows up to EOF/OK, or ERR (COM_STMT_FETCH)
	expectUnknown                 // a command the proxy cannot follow: relay opaquely from here on
)

func expectFor(cmd byte) expect {
	switch cmd {
	case comQuit, comStmtClose, comStmtSendLongData:
		return expectNone
	case comQuery, comStmtExecute, comStmtBulkExecute:
		return expectResult
	case comStmtPrepare:
		return expectPrepare
	case comFieldList:
		return expectFieldList
	case comStmtFetch:
		return expectRows
	case comInitDB, comPing, comStatistics, comProcessKill, comStmtReset, comSetOption, comResetConnection,
		0x05, 0x06, 0x07, 0x08, 0x0d:
		return expectOne
	}
	return expectUnknown
}

// Parser states.
const (
	stFirst       uint8 = iota // the first packet of a response (or of the next result set)
	stCols                     // column definitions
	stColsEOF                  // the EOF after column definitions (no CLIENT_DEPRECATE_EOF)
	stRows                     // rows up to the terminator
	stParams                   // COM_STMT_PREPARE's parameter definitions
	stParamsEOF                // ... and their EOF
	stPrepCols                 // COM_STMT_PREPARE's column definitions
	stPrepColsEOF              // ... and their EOF
	stDone
)

// response follows a server's answer to one command frame by frame, without buffering it,
// and sums it up: status, error, row counts and the two result hashes. The same code reads
// the primary's answer (while relaying it) and the shadow's (while discarding it), each with
// the capabilities of its own session, so both sides are measured and hashed alike.
type response struct {
	caps    uint32
	ext     uint32
	expect  expect
	binary  bool // rows of the binary protocol (prepared statements)
	state   uint8
	ncols   uint64
	seen    uint64
	params  uint64
	inFrame bool // the previous frame was full: this one continues the same packet

	// Summary.
	err          *mysqlwire.ServerError
	affected     int64
	rows         int64
	localInfile  bool   // the server asked for a LOCAL INFILE: the client sends a file next
	stmtID       uint32 // COM_STMT_PREPARE: the statement id the server gave
	malformed    string // why the response could not be followed (relay continues opaquely)
	colHash      xxhash.Digest
	rowHash      xxhash.Digest
	orderHash    xxhash.Digest
	setHash      xxhash.Digest
	setSum       uint64 // sum of the row hashes of the current result set (order-insensitive)
	resultHashed bool
}

func (r *response) reset(caps, ext uint32, cmd byte) {
	*r = response{caps: caps, ext: ext, expect: expectFor(cmd), binary: cmd == comStmtExecute || cmd == comStmtFetch || cmd == comStmtBulkExecute}
	r.orderHash.Reset()
	r.setHash.Reset()
	if r.expect == expectRows {
		r.state = stRows
		r.startResult()
	}
}

func (r *response) done() bool { return r.state == stDone }

func (r *response) deprecateEOF() bool { return r.caps&mysqlwire.ClientDeprecateEOF != 0 }

// frame feeds one frame's payload. It never fails: a response it cannot follow sets malformed
// and ends, and the caller falls back to relaying bytes without reading them.
func (r *response) frame(p []byte) {
	full := len(p) == mysqlwire.MaxFramePayload
	if r.inFrame { // continuation of a long row
		r.rowHash.Write(p)
		r.inFrame = full
		if !full {
			r.endRow()
		}
		return
	}
	r.inFrame = full
	if len(p) == 0 {
		r.fail("empty packet")
		return
	}
	switch r.state {
	case stFirst:
		r.first(p)
	case stCols, stPrepCols:
		r.column(p)
		r.seen++
		if r.seen == r.ncols {
			r.afterColumns()
		}
	case stParams:
		r.seen++
		if r.seen == r.params {
			r.seen = 0
			if r.deprecateEOF() {
				r.afterParams()
			} else {
				r.state = stParamsEOF
			}
		}
	case stParamsEOF:
		r.expectEOF(p)
		r.afterParams()
	case stColsEOF:
		r.expectEOF(p)
		if r.state == stDone {
			return
		}
		if r.expect == expectFieldList {
			r.state = stDone
			return
		}
		r.state = stRows
	case stPrepColsEOF:
		r.expectEOF(p)
		r.state = stDone
	case stRows:
		r.row(p, full)
	case stDone:
		r.fail("data after the end of the response")
	}
}

func (r *response) fail(why string) {
	if r.malformed == "" {
		r.malformed = why
	}
	r.state = stDone
}

func (r *response) expectEOF(p []byte) {
	switch {
	case p[0] == 0xfe && len(p) < 9:
	case p[0] == 0xff:
		r.err = mysqlwire.ParseErr(p, r.caps)
		r.state = stDone
	default:
		r.fail(fmt.Sprintf("expected EOF, got 0x%02x", p[0]))
	}
}

func (r *response) first(p []byte) {
	switch {
	case p[0] == 0x00 && r.expect == expectPrepare:
		if len(p) < 12 {
			r.fail("short COM_STMT_PREPARE OK")
			return
		}
		r.stmtID = binary.LittleEndian.Uint32(p[1:])
		r.ncols = uint64(binary.LittleEndian.Uint16(p[5:]))
		r.params = uint64(binary.LittleEndian.Uint16(p[7:]))
		r.afterParamsOrNot()
	case p[0] == 0x00 || (p[0] == 0xfe && r.expect == expectOne):
		var ok mysqlwire.OK
		if p[0] == 0xfe && len(p) < 9 {
			ok = mysqlwire.ParseEOF(p)
		} else if o, good := mysqlwire.ParseOK(p); good {
			ok = o
		}
		r.affected += int64(ok.AffectedRows)
		r.endResult(ok.Status)
	case p[0] == 0xff:
		if r.isProgress(p) {
			return
		}
		r.err = mysqlwire.ParseErr(p, r.caps)
		r.state = stDone
	case r.expect == expectOne:
		r.state = stDone // COM_STATISTICS answers with a bare string
	case p[0] == 0xfb && r.expect == expectResult:
		r.localInfile = true
		r.state = stDone
	case r.expect == expectResult:
		n, size, ok := mysqlwire.ReadLenenc(p)
		if !ok || n == 0 {
			r.fail("bad column count")
			return
		}
		r.ncols, r.seen = n, 0
		r.startResult()
		if r.ext&mysqlwire.MariaDBCacheMetadata != 0 && r.binary && len(p) > size && p[size] == 0 {
			r.state = stRows // metadata skipped: the client cached it
			return
		}
		r.state = stCols
	case r.expect == expectFieldList:
		r.ncols = ^uint64(0)
		r.state = stCols
		r.frame(p)
	default:
		r.fail(fmt.Sprintf("unexpected first packet 0x%02x", p[0]))
	}
}

// isProgress is MariaDB's progress report: an ERR-shaped packet with code 0xffff that does
// not end anything.
func (r *response) isProgress(p []byte) bool {
	return r.caps&mysqlwire.ClientProgressMariaDB != 0 && len(p) >= 3 && binary.LittleEndian.Uint16(p[1:]) == 0xffff
}

func (r *response) afterParamsOrNot() {
	r.seen = 0
	if r.params > 0 {
		r.state = stParams
		return
	}
	r.afterParams()
}

func (r *response) afterParams() {
	r.seen = 0
	if r.ncols > 0 {
		r.state = stPrepCols
		return
	}
	r.state = stDone
}

// column hashes a column definition's name and type (catalog, schema, table, lengths and
// charset may legitimately differ between clusters and are left out).
func (r *response) column(p []byte) {
	if r.expect == expectFieldList && (p[0] == 0xfe && len(p) < 9 || p[0] == 0xff) {
		if p[0] == 0xff {
			r.err = mysqlwire.ParseErr(p, r.caps)
		}
		r.state = stDone
		return
	}
	if r.state != stCols || r.expect != expectResult {
		return // prepare metadata and field lists are not results
	}
	rest := p
	var name []byte
	for i := range 6 { // catalog, schema, table, org_table, name, org_name
		n, size, ok := mysqlwire.ReadLenenc(rest)
		if !ok || uint64(len(rest)-size) < n {
			r.fail("bad column definition")
			return
		}
		if i == 4 {
			name = rest[size : size+int(n)]
		}
		rest = rest[size+int(n):]
	}
	if r.ext&mysqlwire.MariaDBExtendedMeta != 0 {
		n, size, ok := mysqlwire.ReadLenenc(rest)
		if !ok || uint64(len(rest)-size) < n {
			r.fail("bad extended metadata")
			return
		}
		rest = rest[size+int(n):]
	}
	// 0x0c, charset(2), length(4), type(1), flags(2), decimals(1)
	if len(rest) < 8 {
		r.fail("short column definition")
		return
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(name)))
	r.colHash.Write(lenBuf[:])
	r.colHash.Write(name)
	r.colHash.Write(rest[7:8])
}

func (r *response) afterColumns() {
	r.seen = 0
	switch {
	case r.state == stPrepCols && r.deprecateEOF():
		r.state = stDone
	case r.state == stPrepCols:
		r.state = stPrepColsEOF
	case r.expect == expectFieldList:
		r.state = stDone
	case r.deprecateEOF():
		r.state = stRows
	default:
		r.state = stColsEOF
	}
}

func (r *response) startResult() {
	r.resultHashed = true
	r.colHash.Reset()
	r.setSum = 0
	r.rowHash.Reset()
}

func (r *response) row(p []byte, full bool) {
	switch {
	case p[0] == 0xfe && !full && (len(p) < 9 || r.deprecateEOF() && len(p) < mysqlwire.MaxFramePayload):
		var ok mysqlwire.OK
		if r.deprecateEOF() {
			ok, _ = mysqlwire.ParseOK(p)
		} else {
			ok = mysqlwire.ParseEOF(p)
		}
		r.closeResultSet()
		r.endResult(ok.Status)
	case p[0] == 0xff && !full:
		if r.isProgress(p) {
			return
		}
		r.err = mysqlwire.ParseErr(p, r.caps)
		r.closeResultSet()
		r.state = stDone
	default:
		r.rowHash.Reset()
		r.rowHash.Write(p)
		if !full {
			r.endRow()
		}
	}
}

func (r *response) endRow() {
	h := r.rowHash.Sum64()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], h)
	r.orderHash.Write(b[:])
	r.setSum += h
	r.rows++
}

// closeResultSet folds one result set into both hashes: the order-sensitive hash has seen
// its rows in order; the order-insensitive one takes the columns and the sum of row hashes.
func (r *response) closeResultSet() {
	var b [24]byte
	binary.LittleEndian.PutUint64(b[:], r.colHash.Sum64())
	binary.LittleEndian.PutUint64(b[8:], r.setSum)
	binary.LittleEndian.PutUint64(b[16:], uint64(r.rows))
	r.setHash.Write(b[:])
	r.orderHash.Write(b[:8]) // the columns, after the rows
}

// endResult ends one result (an OK or the terminator of a result set): another follows when
// the server says so.
func (r *response) endResult(status uint16) {
	if status&mysqlwire.StatusMoreResultsExist != 0 && r.expect == expectResult {
		r.state = stFirst
		return
	}
	r.state = stDone
}

// hashes returns the two result hashes (hex), empty when the response had no result set.
func (r *response) hashes() (ordered, set string) {
	if !r.resultHashed {
		return "", ""
	}
	// One string for both, cut in two: one allocation per row.
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], r.orderHash.Sum64())
	binary.BigEndian.PutUint64(b[8:], r.setHash.Sum64())
	both := hex.EncodeToString(b[:])
	return both[:16], both[16:]
}
