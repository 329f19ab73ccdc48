package shadowproxy

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/lakehouse"
)

// Drop reasons written to drop_reason: the mirror did not execute its copy.
const (
	DropQueueFull        = "queue_full"             // the connection's shadow queue was full
	DropUnavailable      = "shadow_unavailable"     // no session on the mirror: it could not be reached
	DropLoginFailed      = "shadow_login_failed"    // the mirror refused the configured credentials
	DropTooLarge         = "too_large"              // the command is larger than --max-mirror-bytes
	DropStmtNotPrepared  = "statement_not_prepared" // the statement was never prepared on the mirror
	DropMirrorLost       = "mirror_unavailable"     // after a cutover: the primary's session as a mirror broke and cannot be reopened
	DropConnectionClosed = "proxy_shutdown"         // the proxy shut down before the copy ran
	DropExpired          = "queue_expired"          // the copy waited longer than --queue-max-wait: the shadow is behind
)

// job is one command for the mirror.
type job struct {
	qid        string
	cmd        byte
	payload    []byte
	text       string
	clientStmt uint32
	state      bool // session state: losing it desynchronises the mirror's session
	handover   *handover
	// sourceSet is the source's result-set hash ("" when it answered no rows), for the
	// result-difference count.
	sourceSet string
	queued    time.Time // when it was queued: a copy that waited past --queue-max-wait is dropped
}

// jobOverhead is what a queued copy costs beyond its payload and text (the job, its record to be).
const jobOverhead = 256

// cost is what a queued copy counts against the byte bounds: a flood of tiny commands is bounded
// too, not only large ones.
func (j *job) cost() int64 { return int64(len(j.payload)+len(j.text)) + jobOverhead }

// handover swaps the roles of the two backends (a cutover) at a command boundary: the
// session gives its source and takes the mirror's backend once the queue before it has run.
type handover struct {
	mu        sync.Mutex
	give      *backend
	reply     chan *backend
	taken     bool
	cancelled bool
}

// mirror runs one connection's copies on the mirror target, in order, on its own session.
type mirror struct {
	s            *session
	jobs         *jobQueue
	done         chan struct{}
	finishOnce   sync.Once
	startOnce    sync.Once
	be           *backend
	target       string // cluster name of the mirror target
	canReconnect bool   // only the shadow's session can be reopened (with the configured user)
	resync       atomic.Bool
	queuedBytes  atomic.Int64 // what the jobs waiting cost (job.cost)
	aborted      atomic.Bool
	ncMu         sync.Mutex
	nc           net.Conn // the backend's connection, for abort
	lastFail     time.Time
	lastReason   string
	lastErr      string
	resp         response
	// prepErr holds the mirror's errors for statements it could not prepare (by client id):
	// their executes are logged as failing with it, the truth of what the mirror would do.
	prepErr map[uint32]*mysqlwire.ServerError
}

func newMirror(s *session) *mirror {
	return &mirror{s: s, jobs: newJobQueue(), done: make(chan struct{}), target: "shadow", canReconnect: true}
}

// abort makes the worker log the copies still queued as not executed and cuts the one
// running (the proxy's shutdown deadline has passed).
func (m *mirror) abort() {
	m.aborted.Store(true)
	m.ncMu.Lock()
	if m.nc != nil {
		m.nc.Close()
	}
	m.ncMu.Unlock()
}

// setBackend makes be the mirror's backend (nil: none), visible to abort.
func (m *mirror) setBackend(be *backend) {
	m.be = be
	m.ncMu.Lock()
	m.nc = nil
	if be != nil {
		m.nc = be.nc
	}
	m.ncMu.Unlock()
}

// start runs the worker (once; the session calls it before the first copy is queued).
func (m *mirror) start() {
	m.startOnce.Do(func() {
		go m.run()
	})
}

// finish closes the queue: the worker runs what is queued and ends (done is closed at once
// when it never started).
func (m *mirror) finish() {
	m.finishOnce.Do(func() {
		m.jobs.close()
		m.startOnce.Do(func() { close(m.done) })
	})
}

func (m *mirror) run() {
	defer close(m.done)
	defer func() {
		if v := recover(); v != nil {
			m.s.p.cfg.Log.Error("mirror worker panicked", "conn", m.s.id, "panic", fmt.Sprint(v))
			// The copies still queued are logged as not executed: none disappears unseen.
			for j, ok := m.jobs.pop(); ok; j, ok = m.jobs.pop() {
				if j.handover == nil {
					m.dequeued(j)
					m.dropped(j, m.target, DropUnavailable, "the mirror worker of this connection failed")
				}
			}
		}
	}()
	for j, ok := m.jobs.pop(); ok; j, ok = m.jobs.pop() {
		if j.handover != nil {
			m.handover(j.handover)
			continue
		}
		m.dequeued(j)
		m.exec(j)
	}
	m.be.close()
}

// dequeued takes a copy off the byte bounds.
func (m *mirror) dequeued(j *job) {
	c := j.cost()
	m.queuedBytes.Add(-c)
	m.s.p.stats.QueuedCommands.Add(-1)
	m.s.p.stats.QueuedBytes.Add(-c)
}

// mirrorTarget is the cluster the mirror runs on: the one that is not the source.
func (s *session) mirrorTarget() string {
	if s.src.target == "primary" {
		return "shadow"
	}
	return "primary"
}

// mirrorCommand decides the command's fate on the mirror: filtered (logged with the reason),
// dropped (logged), or queued.
// sourceSet is the source's result-set hash from its log row ("" without rows).
func (s *session) mirrorCommand(c *command, qid, sourceSet string, r *response) {
	cfg := &s.p.cfg
	m := s.mir
	if reason := cfg.Policy.decide(c.typ, c.kind, c.text); reason != "" {
		s.p.stats.Filtered.Add(1)
		now := time.Now()
		rec := s.record(c, qid, s.mirrorTarget(), "mirror", now, now, 0, 0, nil)
		rec.Filtered, rec.FilterReason, rec.DurationMS, rec.ServerMS, rec.StartedAt = true, reason, 0, nil, nil
		cfg.Sink.Write(rec)
		return
	}
	j := &job{qid: qid, cmd: c.cmd, payload: c.payload, text: c.text, clientStmt: c.clientStmt, state: c.kind == KindState, sourceSet: sourceSet}
	if c.cmd == comStmtPrepare && r.err != nil {
		j.clientStmt = 0 // nothing to map: the source refused it
	}
	if c.tooLarge {
		m.dropped(j, s.mirrorTarget(), DropTooLarge, fmt.Sprintf("the command is larger than %d bytes", cfg.MaxMirrorBytes))
		return
	}
	m.start()
	if why := m.enqueue(j); why != "" {
		if j.state {
			m.resync.Store(true) // replay the session before the next copy
		}
		m.dropped(j, s.mirrorTarget(), DropQueueFull, why)
	}
}

// enqueue queues j within the bounds: the connection's bytes (--queue-bytes), the whole proxy's
// (--queue-total-bytes) and, when set, a number of commands (--queue-size). It returns why j
// was not queued, or "". Over a byte budget only counts when other copies wait: one large
// command still fits an empty queue (--max-mirror-bytes bounds it).
func (m *mirror) enqueue(j *job) string {
	cfg := &m.s.p.cfg
	st := &m.s.p.stats
	c := j.cost()
	j.queued = time.Now()
	st.QueuedCommands.Add(1)
	own, all := m.queuedBytes.Add(c), st.QueuedBytes.Add(c)
	why := ""
	switch {
	case own > int64(cfg.QueueBytes) && own > c:
		why = fmt.Sprintf("this connection's shadow queue holds %d bytes (--queue-bytes %d)", own-c, cfg.QueueBytes)
	case all > int64(cfg.TotalQueueBytes) && own > c:
		why = fmt.Sprintf("the shadow queues of all connections hold %d bytes (--queue-total-bytes %d)", all-c, cfg.TotalQueueBytes)
	case cfg.QueueSize > 0 && m.jobs.len() >= cfg.QueueSize:
		why = fmt.Sprintf("this connection's shadow queue holds %d commands (--queue-size)", cfg.QueueSize)
	case !m.jobs.push(j):
		why = "the connection is closing"
	default:
		return ""
	}
	m.dequeued(j)
	return why
}

// dropped logs a copy the mirror did not execute.
func (m *mirror) dropped(j *job, target, reason, detail string) {
	s := m.s
	s.p.stats.ShadowDropped.Add(1)
	now := time.Now()
	rec := &lakehouse.ProxyLogRecord{TS: now.UTC(), QueryID: j.qid, Target: target, Command: commandName(j.cmd), QueryText: j.text,
		Success: false, Error: "not executed: " + detail, ClientAddr: s.clientAddr, Dropped: true, DropReason: reason,
		Role: "mirror", ConnID: s.id}
	s.p.cfg.Sink.Write(rec)
}

// exec runs one copy on the mirror and logs it.
func (m *mirror) exec(j *job) {
	cfg := &m.s.p.cfg
	if m.aborted.Load() {
		m.dropped(j, m.target, DropConnectionClosed, "the proxy shut down before the copy ran")
		return
	}
	if wait := time.Since(j.queued); cfg.QueueMaxWait > 0 && wait > cfg.QueueMaxWait {
		if j.state {
			m.resync.Store(true)
		}
		m.dropped(j, m.target, DropExpired, fmt.Sprintf("the copy waited %s in the shadow queue (--queue-max-wait %s): the shadow is behind", wait.Round(time.Millisecond), cfg.QueueMaxWait))
		return
	}
	if m.resync.Swap(false) && m.canReconnect {
		m.be.close()
		m.setBackend(nil)
	}
	if j.cmd == comQuit && m.be == nil {
		m.dropped(j, m.target, DropUnavailable, "no session on the "+m.target+" to quit")
		return
	}
	if m.be == nil {
		if !m.canReconnect {
			m.dropped(j, m.target, DropMirrorLost, "the primary's session as a mirror is gone")
			return
		}
		if !m.lastFail.IsZero() && time.Since(m.lastFail) < cfg.ReconnectBackoff {
			m.dropped(j, m.target, m.lastReason, m.lastErr)
			return
		}
		if err := m.connect(); err != nil {
			m.dropped(j, m.target, m.lastReason, m.lastErr)
			return
		}
	}
	payload := j.payload
	if hasStmtID(j.cmd) {
		id, ok := m.be.stmtID(j.clientStmt)
		if e := m.prepErr[j.clientStmt]; !ok && e != nil && j.cmd != comStmtClose {
			m.failedPrepare(j, e)
			return
		}
		if !ok {
			m.dropped(j, m.target, DropStmtNotPrepared, fmt.Sprintf("statement %d was not prepared on the %s", j.clientStmt, m.target))
			return
		}
		if len(payload) >= 5 && binary.LittleEndian.Uint32(payload[1:]) != id { // the copy carries the source's id
			payload = append([]byte(nil), payload...)
			binary.LittleEndian.PutUint32(payload[1:], id)
		}
	}
	start := time.Now()
	r, sent, recv, err := m.roundTrip(payload, start)
	end := time.Now()
	s := m.s
	var answer *response // nil when the round trip failed: the row says why instead
	if err == nil {
		answer = r
	}
	rec := s.record(&command{cmd: j.cmd, text: j.text}, j.qid, m.target, "mirror", start, end, sent, recv, answer)
	if err != nil {
		s.p.stats.ShadowFailures.Add(1)
		rec.Success, rec.Error = false, err.Error()
		m.be.close()
		m.setBackend(nil)
		cfg.Sink.Write(rec)
		return
	}
	s.p.stats.ShadowExecuted.Add(1)
	if r.err != nil {
		s.p.stats.ShadowErrors.Add(1)
	}
	s.p.live.compareResults(j.sourceSet, rec.ResultSetHash)
	switch {
	case j.cmd == comStmtPrepare && r.err == nil && j.clientStmt != 0:
		m.be.ids[j.clientStmt] = r.stmtID
		delete(m.prepErr, j.clientStmt)
	case j.cmd == comStmtPrepare && r.err != nil && j.clientStmt != 0:
		m.notePrepareError(j.clientStmt, r.err)
	case j.cmd == comStmtClose && m.be.ids != nil:
		delete(m.be.ids, j.clientStmt)
		delete(m.prepErr, j.clientStmt)
	case j.cmd == comResetConnection && r.err == nil && m.be.ids != nil:
		clear(m.be.ids)
	}
	cfg.Sink.Write(rec)
}

func (m *mirror) notePrepareError(id uint32, e *mysqlwire.ServerError) {
	if m.prepErr == nil {
		m.prepErr = map[uint32]*mysqlwire.ServerError{}
	}
	m.prepErr[id] = e
}

// failedPrepare logs an execute of a statement the mirror could not prepare as failing with
// the prepare's error: executed there, the statement would fail the same way.
func (m *mirror) failedPrepare(j *job, e *mysqlwire.ServerError) {
	s := m.s
	s.p.stats.ShadowErrors.Add(1)
	now := time.Now()
	rec := s.record(&command{cmd: j.cmd, text: j.text}, j.qid, m.target, "mirror", now, now, 0, 0, nil)
	code := int(e.Code)
	rec.Success, rec.ErrorCode, rec.SQLState, rec.Error = false, &code, e.SQLState, e.Message+" (when preparing the statement)"
	s.p.cfg.Sink.Write(rec)
}

// roundTrip sends one command on the mirror's session and reads the whole answer.
func (m *mirror) roundTrip(payload []byte, start time.Time) (*response, int64, int64, error) {
	be := m.be
	be.nc.SetDeadline(start.Add(m.s.p.cfg.ShadowTimeout))
	defer be.nc.SetDeadline(time.Time{})
	sent := int64(len(payload) + 4*(1+len(payload)/mysqlwire.MaxFramePayload))
	var err error
	if awaitsAnswer(payload[0], len(payload)) {
		err = be.fc.WriteFrameAwaitingReply(payload, 0, nil)
	} else {
		err = be.fc.WriteFrames(payload, 0)
	}
	if err != nil {
		return nil, sent, 0, err
	}
	r := &m.resp
	r.reset(be.caps, be.ext, payload[0])
	var recv int64
	for r.expect != expectNone && !r.done() {
		p, _, err := be.fc.ReadFrame()
		if err != nil {
			return nil, sent, recv, err
		}
		recv += int64(len(p) + 4)
		r.frame(p)
		if r.localInfile { // never asked for by a mirrored command; answer "no file"
			if err := be.fc.WriteFrames(nil, 2); err != nil {
				return nil, sent, recv, err
			}
			r.localInfile, r.state = false, stFirst
		}
		if r.expect == expectUnknown {
			break
		}
	}
	return r, sent, recv, nil
}

// connect opens the shadow session and replays the client's session state: database and
// character set in the handshake, then SET statements and prepared statements.
func (m *mirror) connect() error {
	cfg := &m.s.p.cfg
	snap := m.s.state.snapshot()
	fail := func(reason string, err error) error {
		m.lastFail, m.lastReason, m.lastErr = time.Now(), reason, fmt.Sprintf("%s: %v", reason, err)
		if reason == DropLoginFailed {
			m.s.p.stats.ShadowLoginFailure.Add(1)
		}
		m.s.p.cfg.Log.Debug("shadow session not opened", "conn", m.s.id, "err", err)
		return err
	}
	nc, err := m.s.dial(cfg.Shadow)
	if err != nil {
		return fail(DropUnavailable, err)
	}
	nc.SetDeadline(time.Now().Add(cfg.DialTimeout * 2))
	const passCaps = mysqlwire.ClientFoundRows | mysqlwire.ClientMultiStatements | mysqlwire.ClientMultiResults |
		mysqlwire.ClientPSMultiResults | mysqlwire.ClientDeprecateEOF | mysqlwire.ClientInteractive | mysqlwire.ClientProgressMariaDB
	// MariaDBStmtBulk: without it a MariaDB shadow refuses the COM_STMT_BULK_EXECUTE copies of a
	// client that has it with the primary, and they would show as shadow errors.
	const passExt = mysqlwire.MariaDBExtendedMeta | mysqlwire.MariaDBCacheMetadata | mysqlwire.MariaDBStmtBulk
	// The database is selected after the login, not in it: a shadow without the client's
	// database then shows as errors of the queries that need it, not as a refused session.
	cc, err := mysqlwire.Connect(nc, mysqlwire.ClientConfig{User: cfg.ShadowUser, Password: cfg.ShadowPassword,
		Charset: snap.charset, Caps: snap.caps & passCaps, ExtCaps: snap.ext & passExt, TLS: cfg.ShadowTLS})
	if err != nil {
		nc.Close()
		var se *mysqlwire.ServerError
		if errors.As(err, &se) {
			return fail(DropLoginFailed, err)
		}
		return fail(DropUnavailable, err)
	}
	cc.NC.SetDeadline(time.Time{})
	m.setBackend(&backend{target: "shadow", nc: cc.NC, fc: mysqlwire.FrameConn{R: cc.R, W: cc.NC, Raw: mysqlwire.RawConnOf(cc.NC)}, caps: cc.Caps, ext: cc.ExtCaps, ids: map[uint32]uint32{},
		takesLastStmt: readsLastStmtID(cc.Greeting)})
	if cc.R == nil {
		m.be.fc.R = bufio.NewReaderSize(cc.NC, 4096)
	}
	m.lastFail = time.Time{}
	if snap.db != "" {
		if r, _, _, err := m.roundTrip(append([]byte{comInitDB}, snap.db...), time.Now()); err != nil {
			m.be.close()
			m.setBackend(nil)
			return fail(DropUnavailable, err)
		} else if r.err != nil {
			m.s.p.cfg.Log.Warn("the shadow has not the client's database", "conn", m.s.id, "db", snap.db, "err", r.err)
		}
	}
	for _, set := range snap.sets {
		if r, _, _, err := m.roundTrip(append([]byte{comQuery}, set...), time.Now()); err != nil {
			m.be.close()
			m.setBackend(nil)
			return fail(DropUnavailable, err)
		} else if r.err != nil {
			m.s.p.cfg.Log.Debug("replaying a SET on the shadow failed", "conn", m.s.id, "sql", set, "err", r.err)
		}
	}
	for id, text := range snap.stmts {
		r, _, _, err := m.roundTrip(append([]byte{comStmtPrepare}, text...), time.Now())
		if err != nil {
			m.be.close()
			m.setBackend(nil)
			return fail(DropUnavailable, err)
		}
		if r.err == nil {
			m.be.ids[id] = r.stmtID
		} else {
			m.notePrepareError(id, r.err)
		}
	}
	return nil
}

// handover hands the mirror's backend to the session and takes the session's old source.
func (m *mirror) handover(h *handover) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cancelled {
		return
	}
	if m.be == nil && m.canReconnect && m.connect() != nil {
		h.reply <- nil
		return
	}
	if m.be == nil {
		h.reply <- nil
		return
	}
	h.taken = true
	old := m.be
	m.setBackend(h.give)
	m.target = h.give.target
	m.canReconnect = h.give.target == "shadow"
	h.reply <- old
}

// switchSource makes want's backend the source of answers for this connection (a cutover or
// its way back). The mirror's queue runs first, so the two sessions are in the same state.
func (s *session) switchSource(want Source) {
	s.source = want       // one attempt per switch: a refused connection stays as it is
	if s.src.ids == nil { // name every statement the client holds explicitly before ids diverge
		s.src.ids = make(map[uint32]uint32, len(s.stmts))
		for id := range s.stmts {
			s.src.ids[id] = id
		}
	}
	h := &handover{give: s.src, reply: make(chan *backend, 1)}
	s.mir.start()
	if !s.mir.jobs.push(&job{handover: h}) {
		s.p.cfg.Log.Warn("cutover postponed: the shadow queue is closing", "conn", s.id)
		s.source = 255 // try again at the next command
		return
	}
	timer := time.NewTimer(s.p.cfg.ShadowTimeout)
	defer timer.Stop()
	select {
	case be := <-h.reply:
		if be == nil {
			s.p.cfg.Log.Warn("cutover refused for this connection: no session on the other side", "conn", s.id)
			return
		}
		s.src = be
		s.p.cfg.Log.Info("connection switched source", "conn", s.id, "source", be.target)
	case <-timer.C:
		h.mu.Lock()
		if !h.taken {
			h.cancelled = true
			h.mu.Unlock()
			s.p.cfg.Log.Warn("cutover timed out waiting for the shadow queue", "conn", s.id)
			return
		}
		h.mu.Unlock()
		s.src = <-h.reply
	}
}

// newQueryID is a random (version 4) UUID naming one command on both targets.
func newQueryID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
