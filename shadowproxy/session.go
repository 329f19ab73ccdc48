package shadowproxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/lakehouse"
)

// backend is one server connection: the source's (read by the session) or the mirror's.
type backend struct {
	target string // "primary" or "shadow": the cluster, whatever its role
	nc     net.Conn
	fc     mysqlwire.FrameConn
	caps   uint32
	ext    uint32
	// ids maps the client's statement ids to this backend's; nil means the same ids.
	ids map[uint32]uint32
	// takesLastStmt: the server reads statement id lastStmtID as the statement prepared last
	// (see readsLastStmtID).
	takesLastStmt bool
}

// readsLastStmtID reports whether the server of greeting g reads lastStmtID as the statement
// prepared last: MariaDB 10.2 and later, which clear CLIENT_MYSQL in their greeting; not MySQL,
// not StarRocks.
func readsLastStmtID(g *mysqlwire.Greeting) bool { return g.Caps&mysqlwire.ClientMySQL == 0 }

// lastStmtID is the statement id MariaDB reads as "the statement this session prepared last".
// A client that sends a prepare and its execute together (MariaDB Connector/C's
// mariadb_stmt_execute_direct, connectors that pipeline them) names the statement so, since its
// id is not known yet when the execute goes out.
const lastStmtID = 0xffffffff

func (b *backend) close() {
	if b != nil && b.nc != nil {
		b.nc.Close()
	}
}

func (b *backend) stmtID(client uint32) (uint32, bool) {
	if b.ids == nil {
		return client, true
	}
	id, ok := b.ids[client]
	return id, ok
}

// stmtInfo is what the session knows of a prepared statement.
type stmtInfo struct {
	text string
	typ  string
	kind Kind
}

// sessionState is the client's session as the shadow must replay it when its session is
// (re)opened: the default database, the character set, SET statements and prepared
// statements. The session goroutine writes it; mirror workers read it on reconnect.
type sessionState struct {
	mu      sync.Mutex
	user    string
	db      string
	charset byte
	caps    uint32
	ext     uint32
	sets    []string
	stmts   map[uint32]string // client statement id -> text
}

// maxReplayedSets bounds the SET statements kept for replay; the oldest go first.
const maxReplayedSets = 256

func (st *sessionState) addSet(sql string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, s := range st.sets {
		if s == sql {
			st.sets = append(st.sets[:i], st.sets[i+1:]...)
			break
		}
	}
	if len(st.sets) >= maxReplayedSets {
		st.sets = st.sets[1:]
	}
	st.sets = append(st.sets, sql)
}

type stateSnapshot struct {
	db      string
	charset byte
	caps    uint32
	ext     uint32
	sets    []string
	stmts   map[uint32]string
}

func (st *sessionState) snapshot() stateSnapshot {
	st.mu.Lock()
	defer st.mu.Unlock()
	stmts := make(map[uint32]string, len(st.stmts))
	for k, v := range st.stmts {
		stmts[k] = v
	}
	return stateSnapshot{db: st.db, charset: st.charset, caps: st.caps, ext: st.ext, sets: append([]string(nil), st.sets...), stmts: stmts}
}

// session is one client connection.
type session struct {
	p          *Proxy
	id         uint64
	client     net.Conn
	cr         *bufio.Reader
	cfc        mysqlwire.FrameConn
	clientAddr string
	src        *backend // answers the client
	mir        *mirror
	source     Source
	state      *sessionState
	stmts      map[uint32]*stmtInfo // by client statement id
	nextStmtID uint32               // client ids the proxy hands out after a cutover
	// lastPrepared is the client's id of the statement the source runs for lastStmtID, or
	// lastStmtID itself when there is none: see resolveStmt.
	lastPrepared uint32
	out          []byte // frames on their way to the client
	resp         response
	// cmd is the command being relayed, and cmdFirst its first frame, for describeCommand, which
	// describeStep (bound once: a closure per command would cost allocations) runs while the
	// source works on it.
	cmd          command
	cmdFirst     []byte
	describeStep func()

	draining atomic.Bool
	idle     atomic.Bool
	served   atomic.Bool // a command has been relayed: a drained session may end when idle
	// handshakeSeq is the sequence number of the proxy's next packet to the client during
	// the handshake.
	handshakeSeq uint8
}

func newSession(p *Proxy, nc net.Conn, id uint64) *session {
	s := &session{p: p, id: id, client: nc, clientAddr: nc.RemoteAddr().String(), state: &sessionState{stmts: map[uint32]string{}},
		stmts: map[uint32]*stmtInfo{}, nextStmtID: 1 << 31, lastPrepared: lastStmtID}
	s.cr = bufio.NewReaderSize(nc, 4096)
	s.cfc = mysqlwire.FrameConn{R: s.cr, W: nc}
	s.describeStep = s.describeCommand
	return s
}

// drain asks the session to end at the next command boundary (at once when idle). A session
// that has not run a command yet (it was logging in when the drain began) gets its first one
// first: a client that just logged in is about to send it, and would otherwise see its new
// connection fail.
func (s *session) drain() {
	s.draining.Store(true)
	if s.idle.Load() {
		s.client.SetReadDeadline(s.drainDeadline())
	}
}

// firstCommandGrace is how long a drained session that has run no command waits for one.
const firstCommandGrace = 2 * time.Second

func (s *session) drainDeadline() time.Time {
	if s.served.Load() {
		return time.Now()
	}
	return time.Now().Add(firstCommandGrace)
}

// kill cuts the connection now.
func (s *session) kill() {
	s.client.Close()
	if s.src != nil {
		s.src.close()
	}
}

func (s *session) run() {
	defer s.p.endSession(s)
	defer func() {
		if v := recover(); v != nil { // a bug must cost one connection, not the proxy
			s.p.cfg.Log.Error("session panicked", "conn", s.id, "panic", fmt.Sprint(v))
		}
		s.client.Close()
		s.src.close()
		if s.mir != nil {
			// The copies still queued run before the session counts as ended, so that a
			// shutdown flushes their log rows; a shutdown past its deadline aborts them.
			s.mir.finish()
			select {
			case <-s.mir.done:
			case <-s.p.killed:
				s.mir.abort()
				<-s.mir.done
			}
		}
	}()
	// Before login a connection is anybody's: only so many at once, each with a deadline and
	// packets of bounded size (see maxHandshakePacket).
	select {
	case s.p.handshakes <- struct{}{}:
	default:
		s.p.stats.HandshakesRefused.Add(1)
		s.refuse(1040, "08004", "srctl shadow: too many connections logging in at once")
		return
	}
	err := s.handshake()
	<-s.p.handshakes
	if err != nil {
		if errors.Is(err, mysqlwire.ErrPacketTooLarge) {
			s.p.stats.HandshakesRefused.Add(1)
		}
		s.p.cfg.Log.Debug("connection ended in the handshake", "conn", s.id, "client", s.clientAddr, "err", err)
		return
	}
	s.mir = newMirror(s) // its goroutine starts with the first copy: idle connections cost less
	if err := s.serve(); err != nil && !isClosed(err) {
		s.p.cfg.Log.Info("connection ended", "conn", s.id, "client", s.clientAddr, "err", err)
	}
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, os.ErrDeadlineExceeded)
}

func (s *session) dial(addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: s.p.cfg.DialTimeout, KeepAlive: 30 * time.Second}
	return d.Dial("tcp", addr)
}

// maxHandshakePacket bounds a client's packets before it is logged in: a handshake response
// is a few hundred bytes, plus connection attributes that clients keep under 64 KiB.
const maxHandshakePacket = 128 << 10

// handshake relays the connection phase between the client and the primary: the primary's
// greeting (CLIENT_SSL offered only when the proxy terminates TLS), the client's response
// (after the TLS upgrade, if any), and the authentication exchange, whatever the plugin. The
// proxy never sees the client's password; the shadow gets a session of its own.
func (s *session) handshake() error {
	cfg := &s.p.cfg
	pc, err := s.dial(cfg.Primary)
	if err != nil {
		s.refuse(2003, "HY000", fmt.Sprintf("srctl shadow: cannot reach the primary %s", cfg.Primary))
		return fmt.Errorf("primary: %w", err)
	}
	s.src = &backend{target: "primary", nc: pc, fc: mysqlwire.FrameConn{R: bufio.NewReaderSize(pc, 4096), W: pc, Raw: mysqlwire.RawConnOf(pc)}}
	pc.SetDeadline(time.Now().Add(cfg.DialTimeout * 2))
	s.client.SetDeadline(time.Now().Add(cfg.HandshakeTimeout))
	defer pc.SetDeadline(time.Time{})
	defer s.client.SetDeadline(time.Time{})

	greet, gseq, err := s.src.fc.ReadPacket()
	if err != nil {
		s.refuse(2013, "HY000", "srctl shadow: the primary closed the connection during the handshake")
		return fmt.Errorf("primary greeting: %w", err)
	}
	g, err := mysqlwire.ParseGreeting(greet)
	if err != nil {
		s.writeClient(mysqlwire.AppendFrames(nil, greet, gseq)) // e.g. "too many connections": the client should see it
		return fmt.Errorf("primary greeting: %w", err)
	}
	// Not offered through the proxy: TLS unless it terminates it, and compression, which would
	// hide the packets it follows.
	caps := g.Caps &^ (mysqlwire.ClientSSL | mysqlwire.ClientCompress | mysqlwire.ClientZstdCompression)
	if cfg.ClientTLS != nil {
		caps |= mysqlwire.ClientSSL
	}
	if caps != g.Caps {
		g2 := *g // rewrite the bytes; g keeps the primary's real capabilities for what follows
		g2.SetGreetingCaps(greet, caps)
	}
	if err := s.writeClient(mysqlwire.AppendFrames(nil, greet, gseq)); err != nil {
		return err
	}

	resp, cseq, err := s.cfc.ReadPacketLimit(maxHandshakePacket)
	if err != nil {
		return fmt.Errorf("client handshake response: %w", err)
	}
	s.handshakeSeq = cseq + 1
	hr, err := mysqlwire.ParseHandshakeResponse(resp)
	if err != nil {
		return err
	}
	clientTLS := false
	if hr.SSLRequest {
		if cfg.ClientTLS == nil {
			return errors.New("the client asked for TLS, which was not offered")
		}
		// The client's TLS hello may already sit in the read buffer behind its SSL request.
		tc := tls.Server(&bufferedConn{Conn: s.client, r: s.cr}, cfg.ClientTLS)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("client TLS: %w", err)
		}
		s.client = tc
		s.cr = bufio.NewReaderSize(tc, 4096) // a new one: tc reads through the old
		s.cfc = mysqlwire.FrameConn{R: s.cr, W: tc}
		if resp, cseq, err = s.cfc.ReadPacketLimit(maxHandshakePacket); err != nil {
			return fmt.Errorf("client handshake response after TLS: %w", err)
		}
		s.handshakeSeq = cseq + 1
		if hr, err = mysqlwire.ParseHandshakeResponse(resp); err != nil {
			return err
		}
		clientTLS = true
	}

	pseq := cseq
	fwd := resp
	switch {
	case cfg.PrimaryTLS != nil:
		if g.Caps&mysqlwire.ClientSSL == 0 {
			s.refuse(2026, "HY000", "srctl shadow: the primary does not offer TLS")
			return errors.New("the primary does not offer TLS")
		}
		fwd = append([]byte(nil), resp...)
		binary.LittleEndian.PutUint32(fwd, hr.Caps|mysqlwire.ClientSSL)
		if err := s.src.fc.WriteFrames(fwd[:32], 1); err != nil {
			return err
		}
		tc := tls.Client(pc, cfg.PrimaryTLS)
		if err := tc.Handshake(); err != nil {
			s.refuse(2026, "HY000", "srctl shadow: TLS to the primary failed")
			return fmt.Errorf("primary TLS: %w", err)
		}
		s.src.nc = tc
		s.src.fc = mysqlwire.FrameConn{R: bufio.NewReaderSize(tc, 4096), W: tc}
		pseq = 2
	case clientTLS:
		fwd = append([]byte(nil), resp...)
		binary.LittleEndian.PutUint32(fwd, hr.Caps&^mysqlwire.ClientSSL)
		pseq = 1
	}
	if noComp := hr.Caps &^ (mysqlwire.ClientCompress | mysqlwire.ClientZstdCompression); noComp != hr.Caps {
		fwd = append([]byte(nil), fwd...) // a client asking for compression not offered: not through here
		binary.LittleEndian.PutUint32(fwd, binary.LittleEndian.Uint32(fwd)&^(mysqlwire.ClientCompress|mysqlwire.ClientZstdCompression))
		hr.Caps = noComp
	}
	delta := pseq - cseq
	if err := s.src.fc.WriteFrames(fwd, pseq); err != nil {
		return err
	}
	for range 16 {
		p, seq, err := s.src.fc.ReadPacket()
		if err != nil {
			return fmt.Errorf("authentication: %w", err)
		}
		if err := s.writeClient(mysqlwire.AppendFrames(nil, p, seq-delta)); err != nil {
			return err
		}
		if len(p) == 0 {
			return errors.New("empty packet during authentication")
		}
		switch {
		case p[0] == 0x00:
			s.src.caps = hr.Caps & g.Caps
			s.src.ext = hr.ExtCaps & g.ExtCaps
			s.src.takesLastStmt = readsLastStmtID(g)
			st := s.state
			st.user, st.charset, st.caps, st.ext = hr.User, hr.Charset, s.src.caps, s.src.ext
			if hr.Caps&mysqlwire.ClientConnectWithDB != 0 {
				st.db = hr.DB
			}
			return nil
		case p[0] == 0xff:
			return fmt.Errorf("the primary refused the login: %w", mysqlwire.ParseErr(p, hr.Caps))
		case p[0] == 0x01 && len(p) == 2 && p[1] == 0x03:
			continue // caching_sha2 fast path: an OK follows without the client
		}
		cp, cs, err := s.cfc.ReadPacketLimit(maxHandshakePacket) // auth switch or more data: the client answers
		if err != nil {
			return fmt.Errorf("authentication: %w", err)
		}
		if err := s.src.fc.WriteFrames(cp, cs+delta); err != nil {
			return err
		}
	}
	return errors.New("authentication exchange too long")
}

// bufferedConn reads through a bufio.Reader that may hold bytes already read from Conn.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// refuse sends an ERR in place of a greeting, or of the answer to the handshake response once
// the client sent it (handshakeSeq), as a server does when it refuses.
func (s *session) refuse(code uint16, state, msg string) {
	p := []byte{0xff}
	p = binary.LittleEndian.AppendUint16(p, code)
	p = append(p, '#')
	p = append(p, state...)
	p = append(p, msg...)
	s.client.SetWriteDeadline(time.Now().Add(5 * time.Second))
	s.writeClient(mysqlwire.AppendFrames(nil, p, s.handshakeSeq))
}

func (s *session) writeClient(b []byte) error {
	_, err := s.client.Write(b)
	return err
}

// flushClient writes the buffered frames to the client.
func (s *session) flushClient() error {
	if len(s.out) == 0 {
		return nil
	}
	_, err := s.client.Write(s.out)
	if cap(s.out) > 256<<10 {
		s.out = nil // do not keep a large buffer on an idle connection
	} else {
		s.out = s.out[:0]
	}
	return err
}

// clientFlushAt is how much of an answer is buffered before it goes to the client.
const clientFlushAt = 32 << 10

// command is one client command as the session saw it.
type command struct {
	cmd        byte
	payload    []byte // the whole payload up to MaxMirrorBytes (a copy the mirror may keep)
	tooLarge   bool
	text       string // SQL of COM_QUERY / COM_STMT_PREPARE, statement text of executes
	typ        string
	kind       Kind
	clientStmt uint32 // statement id named by the command (client's numbering)
	bytesSent  int64
}

// serve runs the command phase until the client quits or a connection fails.
func (s *session) serve() error {
	for {
		if s.draining.Load() && s.served.Load() {
			return nil
		}
		s.idle.Store(true)
		if s.draining.Load() {
			s.client.SetReadDeadline(s.drainDeadline())
		}
		first, seq, err := s.cfc.ReadFrame()
		s.idle.Store(false)
		s.served.Store(true)
		if err != nil {
			if s.draining.Load() && errors.Is(err, os.ErrDeadlineExceeded) && s.cr.Buffered() == 0 {
				return nil // drained while idle
			}
			return err
		}
		if len(first) == 0 {
			return errors.New("empty command packet")
		}
		// The source is chosen when the command has arrived, not before the wait for it: a
		// switch made while the connection was idle applies to its very next command.
		if want := s.p.Source(); want != s.source {
			s.switchSource(want)
		}
		if err := s.command(first, seq); err != nil {
			return err
		}
	}
}

// command relays one command to the source and its answer to the client, logs the source's
// row and hands the mirror its copy.
func (s *session) command(first []byte, seq uint8) error {
	cfg := &s.p.cfg
	s.p.stats.Commands.Add(1)
	c := &s.cmd // the session's: nothing keeps it past the command
	*c = command{cmd: first[0]}
	if c.cmd == comChangeUser {
		return s.changeUser(first, seq)
	}
	// Statement ids: the client's numbering may differ from the source's after a cutover, when
	// the source is sent its own id (lastStmtID included: the new source's last statement is
	// not the client's). The session's first source gets the client's bytes as they are.
	if hasStmtID(c.cmd) && len(first) >= 5 {
		wire := binary.LittleEndian.Uint32(first[1:])
		c.clientStmt = s.resolveStmt(wire)
		if id, ok := s.src.ids[c.clientStmt]; ok && id != wire {
			first = append([]byte(nil), first...)
			binary.LittleEndian.PutUint32(first[1:], id)
		}
	}
	c.bytesSent = int64(len(first) + 4)
	keep := len(first) <= cfg.MaxMirrorBytes
	s.cmdFirst = first
	defer func() { s.cmdFirst = nil }()
	// What the log and the mirror need of the command (its copy, its text and kind) is worked
	// out while the source works on it. A command of one frame that the source answers is
	// written by WriteFrameAwaitingReply, which runs describeCommand between the write and the
	// wait for the answer (the client's next command is not awaited that way: see
	// mysqlwire.FrameConn.WriteFrameAwaitingReply and the README's shadow measurements); any
	// other is described once it has gone whole.
	start := time.Now()
	described := false
	if awaitsAnswer(c.cmd, len(first)) {
		c.tooLarge = !keep
		described = true
		if err := s.src.fc.WriteFrameAwaitingReply(first, seq, s.describeStep); err != nil {
			s.relayLastWords()
			return s.sourceFailed(c, start, err)
		}
	} else if err := s.src.fc.WriteFrame(first, seq); err != nil {
		s.relayLastWords()
		return s.sourceFailed(c, start, err)
	} else if keep {
		c.payload = append(make([]byte, 0, len(first)), first...)
	}
	for n := len(first); n == mysqlwire.MaxFramePayload; {
		p, sq, err := s.cfc.ReadFrame()
		if err != nil {
			return err
		}
		n = len(p)
		if err := s.src.fc.WriteFrame(p, sq); err != nil {
			s.relayLastWords()
			return s.sourceFailed(c, start, err)
		}
		c.bytesSent += int64(n + 4)
		if keep && len(c.payload)+n <= cfg.MaxMirrorBytes {
			c.payload = append(c.payload, p...)
		} else {
			keep = false
		}
	}
	if !described {
		c.tooLarge = !keep
		s.describeCommand()
	}

	r := &s.resp
	r.reset(s.src.caps, s.src.ext, c.cmd)
	var recv int64
	if r.expect != expectNone {
		for !r.done() {
			p, sq, err := s.src.fc.ReadFrame()
			if err != nil {
				s.flushClient()
				return s.sourceFailed(c, start, err)
			}
			recv += int64(len(p) + 4)
			if c.cmd == comStmtPrepare && r.state == stFirst && len(p) >= 5 && p[0] == 0x00 {
				s.rewritePreparedID(p)
			}
			s.out = append(s.out, byte(len(p)), byte(len(p)>>8), byte(len(p)>>16), sq)
			s.out = append(s.out, p...)
			if len(s.out) >= clientFlushAt {
				if err := s.flushClient(); err != nil {
					return err
				}
			}
			r.frame(p)
			if r.localInfile {
				if err := s.relayLocalFile(c); err != nil {
					return err
				}
				r.localInfile, r.state = false, stFirst
			}
			if r.expect == expectUnknown {
				break
			}
		}
	}
	if err := s.flushClient(); err != nil {
		return err
	}
	end := time.Now()
	s.cfc.Shrink(16 << 10)
	s.src.fc.Shrink(16 << 10)
	rec := s.record(c, newQueryID(), s.src.target, "source", start, end, c.bytesSent, recv, r)
	if r.err != nil {
		s.p.stats.PrimaryErrors.Add(1)
	}
	qid, set := rec.QueryID, rec.ResultSetHash
	cfg.Sink.Write(rec) // rec is the sink's from here
	s.track(c, r)
	s.mirrorCommand(c, qid, set, r)
	if c.cmd == comQuit {
		return io.EOF
	}
	if r.malformed != "" || r.expect == expectUnknown {
		why := r.malformed
		if why == "" {
			why = "unknown command " + commandName(c.cmd)
		}
		return s.opaque(why)
	}
	return nil
}

// describeCommand finishes s.cmd for the log and the mirror: a command of one frame is copied for
// the mirror (the frame is the client connection's buffer), one too large to mirror keeps the
// head of its first frame for the log, and its text, type and kind are found.
func (s *session) describeCommand() {
	c := &s.cmd
	switch {
	case c.tooLarge:
		c.payload = append([]byte(nil), s.cmdFirst[:min(len(s.cmdFirst), 64<<10)]...)
	case c.payload == nil: // a command of one frame: the mirror's copy
		c.payload = append(make([]byte, 0, len(s.cmdFirst)), s.cmdFirst...)
	}
	s.describe(c)
}

// awaitsAnswer reports whether a command of n payload bytes goes to a server with
// mysqlwire.FrameConn.WriteFrameAwaitingReply: it fits one frame and gets an answer the proxy
// follows (a command without one would wait for nothing).
func awaitsAnswer(cmd byte, n int) bool {
	x := expectFor(cmd)
	return n < mysqlwire.MaxFramePayload && x != expectNone && x != expectUnknown
}

// resolveStmt is the client's id of the statement a command names: id itself, or for lastStmtID
// on a source that reads it so, the statement prepared last, which is what the source runs. The
// log then shows its text, the policy judges its kind, and the mirror sends the shadow its own
// id for it. With none (the last prepare failed, or that statement was closed, or the session
// reset: MariaDB then refuses lastStmtID) the id stays lastStmtID: an unknown statement, judged
// a write, that the mirror has nothing to run for.
func (s *session) resolveStmt(id uint32) uint32 {
	if id == lastStmtID && s.src.takesLastStmt {
		return s.lastPrepared
	}
	return id
}

func hasStmtID(cmd byte) bool {
	switch cmd {
	case comStmtExecute, comStmtClose, comStmtReset, comStmtSendLongData, comStmtFetch, comStmtBulkExecute:
		return true
	}
	return false
}

// relayLastWords passes on what the source said before it stopped reading: a server that
// refuses a command (a packet over max_allowed_packet) answers with an ERR and closes, and the
// client must get that ERR as it would directly.
func (s *session) relayLastWords() {
	s.src.nc.SetReadDeadline(time.Now().Add(time.Second))
	for {
		p, sq, err := s.src.fc.ReadFrame()
		if err != nil {
			break
		}
		s.out = append(s.out, byte(len(p)), byte(len(p)>>8), byte(len(p)>>16), sq)
		s.out = append(s.out, p...)
	}
	s.flushClient()
}

// rewritePreparedID gives the client an id of the proxy's numbering for a statement prepared
// after a cutover (the source's own ids could collide with ids the client already holds).
func (s *session) rewritePreparedID(p []byte) {
	if s.src.ids == nil {
		return
	}
	id := binary.LittleEndian.Uint32(p[1:])
	s.nextStmtID++
	s.src.ids[s.nextStmtID] = id
	binary.LittleEndian.PutUint32(p[1:], s.nextStmtID)
}

// relayLocalFile passes the client's LOAD DATA LOCAL file to the source: packets up to an
// empty one. The answer that follows is read by the caller.
func (s *session) relayLocalFile(c *command) error {
	if err := s.flushClient(); err != nil {
		return err
	}
	for {
		p, sq, err := s.cfc.ReadFrame()
		if err != nil {
			return err
		}
		c.bytesSent += int64(len(p) + 4)
		if err := s.src.fc.WriteFrame(p, sq); err != nil {
			return err
		}
		if len(p) == 0 {
			return nil
		}
	}
}

// describe fills the command's text, type and kind.
func (s *session) describe(c *command) {
	switch c.cmd {
	case comQuery:
		c.text = queryText(c.payload, s.src.caps)
		c.typ, c.kind = classify(c.text)
	case comStmtPrepare:
		c.text = string(c.payload[1:])
		c.typ, c.kind = classify(c.text)
		if c.kind != KindLocalInfile {
			c.kind = KindState // preparing runs nothing; executes are judged one by one
		}
	case comStmtExecute, comStmtBulkExecute, comStmtFetch:
		if st, ok := s.stmts[c.clientStmt]; ok {
			c.text, c.typ, c.kind = st.text, st.typ, st.kind
		} else {
			c.typ, c.kind = "other", KindWrite
		}
	case comInitDB:
		c.text, c.typ, c.kind = string(c.payload[1:]), "use", KindState
	case comStmtClose, comStmtReset, comStmtSendLongData, comResetConnection, comSetOption:
		c.typ, c.kind = "other", KindState
	case comPing, comStatistics, comFieldList, comQuit:
		c.typ, c.kind = "other", KindRead
	default:
		c.typ, c.kind = "other", KindWrite
	}
}

// queryText is the SQL of a COM_QUERY payload (after MySQL 8's query attributes, if any).
func queryText(payload []byte, caps uint32) string {
	b := payload[1:]
	if caps&mysqlwire.ClientQueryAttributes != 0 {
		n, size, ok := mysqlwire.ReadLenenc(b)
		if ok && n == 0 {
			if _, size2, ok := mysqlwire.ReadLenenc(b[size:]); ok {
				b = b[size+size2:]
			}
		}
	}
	return string(b)
}

// track updates what the shadow must replay, from commands the source accepted.
func (s *session) track(c *command, r *response) {
	if c.cmd == comStmtPrepare || c.cmd == comResetConnection {
		s.lastPrepared = lastStmtID // a failed prepare leaves none; a good one sets it below
	}
	if r.err != nil || r.malformed != "" {
		return
	}
	st := s.state
	switch c.cmd {
	case comInitDB:
		st.mu.Lock()
		st.db = c.text
		st.mu.Unlock()
	case comQuery:
		switch c.typ {
		case "set":
			if c.kind == KindState && len(c.text) < 64<<10 {
				st.addSet(c.text)
			}
		case "use":
			if db := useTarget(c.text); db != "" {
				st.mu.Lock()
				st.db = db
				st.mu.Unlock()
			}
		}
	case comStmtPrepare:
		id := r.stmtID
		if s.src.ids != nil {
			id = s.nextStmtID
		}
		s.stmts[id] = &stmtInfo{text: c.text, typ: c.typ}
		s.stmts[id].typ, s.stmts[id].kind = classify(c.text)
		c.clientStmt = id
		s.lastPrepared = id
		st.mu.Lock()
		st.stmts[id] = c.text
		st.mu.Unlock()
	case comStmtClose:
		if c.clientStmt == s.lastPrepared {
			s.lastPrepared = lastStmtID
		}
		delete(s.stmts, c.clientStmt)
		if s.src.ids != nil {
			delete(s.src.ids, c.clientStmt)
		}
		st.mu.Lock()
		delete(st.stmts, c.clientStmt)
		st.mu.Unlock()
	case comResetConnection:
		clear(s.stmts)
		st.mu.Lock()
		st.sets = nil
		clear(st.stmts)
		st.mu.Unlock()
	}
}

// loggedRow is a log row with the values its optional fields point to, allocated together: a
// row costs one allocation instead of six on the client's path. The pointers stay inside the
// same object, so the row keeps them alive as long as it lives.
type loggedRow struct {
	rec      lakehouse.ProxyLogRecord
	ms       float64
	started  time.Time
	rows     int64
	affected int64
	code     int
}

// record is the log row of one command on one target.
func (s *session) record(c *command, qid, target, role string, start, end time.Time, sent, recv int64, r *response) *lakehouse.ProxyLogRecord {
	row := &loggedRow{ms: float64(end.Sub(start).Nanoseconds()) / 1e6, started: start.UTC()}
	rec := &row.rec
	*rec = lakehouse.ProxyLogRecord{
		TS: end.UTC(), Target: target, Command: commandName(c.cmd), QueryText: c.text, DurationMS: row.ms,
		BytesSent: sent, BytesRecv: recv, Success: true, ClientAddr: s.clientAddr, Role: role, ConnID: s.id,
		ServerMS: &row.ms, QueryID: qid, StartedAt: &row.started,
	}
	if r != nil {
		row.fillResult(r)
	}
	return rec
}

// fillResult copies a response's summary into the row.
func (row *loggedRow) fillResult(r *response) {
	rec := &row.rec
	if r.err != nil {
		row.code = int(r.err.Code)
		rec.Success, rec.ErrorCode, rec.SQLState, rec.Error = false, &row.code, r.err.SQLState, r.err.Message
		return
	}
	if r.malformed != "" {
		rec.Error = "srctl shadow could not follow the answer: " + r.malformed
	}
	if r.expect == expectResult || r.expect == expectRows {
		row.rows, row.affected = r.rows, r.affected
		rec.Rows, rec.AffectedRows = &row.rows, &row.affected
		rec.ResultHash, rec.ResultSetHash = r.hashes()
	}
}

// sourceFailed logs the source's transport failure; the client connection ends with it (the
// proxy cannot make up an answer the server did not give).
func (s *session) sourceFailed(c *command, start time.Time, err error) error {
	if c.text == "" && c.payload != nil {
		s.describe(c)
	}
	rec := s.record(c, newQueryID(), s.src.target, "source", start, time.Now(), c.bytesSent, 0, nil)
	rec.Success, rec.Error = false, err.Error()
	s.p.cfg.Sink.Write(rec)
	return fmt.Errorf("%s: %w", s.src.target, err)
}

// changeUser relays COM_CHANGE_USER's authentication like the handshake's and reopens the
// shadow session for the new user's state.
func (s *session) changeUser(first []byte, seq uint8) error {
	if err := s.src.fc.WriteFrames(first, seq); err != nil {
		return err
	}
	for range 16 {
		p, sq, err := s.src.fc.ReadPacket()
		if err != nil {
			return err
		}
		if err := s.writeClient(mysqlwire.AppendFrames(nil, p, sq)); err != nil {
			return err
		}
		if len(p) > 0 && (p[0] == 0x00 || p[0] == 0xff) {
			s.lastPrepared = lastStmtID // the server forgets its statements on a change of user
			if p[0] == 0x00 {
				st := s.state
				st.mu.Lock()
				st.db, st.sets = changeUserDB(first), nil
				clear(st.stmts)
				st.mu.Unlock()
				clear(s.stmts)
				s.mir.resync.Store(true)
			}
			return nil
		}
		if len(p) == 2 && p[0] == 0x01 && p[1] == 0x03 {
			continue
		}
		cp, cs, err := s.cfc.ReadPacketLimit(maxHandshakePacket)
		if err != nil {
			return err
		}
		if err := s.src.fc.WriteFrames(cp, cs); err != nil {
			return err
		}
	}
	return errors.New("COM_CHANGE_USER exchange too long")
}

// changeUserDB is the database a COM_CHANGE_USER names (user NUL, auth, database NUL, ...).
func changeUserDB(p []byte) string {
	rest := p[1:]
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		return ""
	}
	rest = rest[i+1:]
	if len(rest) == 0 {
		return ""
	}
	n := int(rest[0]) // auth response length (CLIENT_SECURE_CONNECTION)
	if len(rest) < 1+n {
		return ""
	}
	rest = rest[1+n:]
	if j := bytes.IndexByte(rest, 0); j >= 0 {
		return string(rest[:j])
	}
	return ""
}

// opaque relays bytes both ways without reading them, for the rest of the connection: the
// client's bytes must reach the source even when the proxy cannot follow the protocol. The
// shadow gets nothing more.
func (s *session) opaque(why string) error {
	s.p.stats.OpaqueSessions.Add(1)
	s.p.cfg.Log.Warn("relaying the rest of the connection without mirroring", "conn", s.id, "client", s.clientAddr, "why", why)
	s.mir.finish()
	done := make(chan error, 2)
	go func() {
		_, err := io.Copy(s.src.nc, s.cr)
		done <- err
	}()
	go func() {
		_, err := io.Copy(s.client, s.src.fc.R)
		done <- err
	}()
	err := <-done
	s.client.Close()
	s.src.close()
	<-done
	return err
}
