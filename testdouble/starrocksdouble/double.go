// Package starrocksdouble is a TEST DOUBLE of a StarRocks FE's MySQL port (9030), not
// StarRocks. StarRocks cannot run on srctl's test machines, so this server answers the
// statements that only StarRocks has, following ../shared/starrocks/README.md section 4, and
// forwards everything else to a real MySQL-protocol server (the local MariaDB), one backend
// connection per client connection:
//
//   - SELECT current_version() answers the configured version (StarRocks-only function).
//   - SET of a StarRocks session variable (enable_profile, enable_async_profile,
//     enable_query_cache, use_page_cache, enable_scan_datacache, enable_populate_datacache,
//     query_timeout, ...) is kept in the session and answered OK; every SET is logged, so tests
//     can see what a client set. Other SETs go to the backend.
//   - Each forwarded SELECT/WITH gets a query id (a UUID). SELECT last_query_id() returns the
//     previous statement's id; SELECT get_query_profile('<id>') returns its profile text when
//     the query ran with enable_profile=true, "" otherwise. With enable_async_profile=true (the
//     default) the profile appears only after AsyncProfileDelay, as StarRocks builds profiles
//     asynchronously; profiles are kept FIFO, the last 500 (profile_info_reserved_num).
//   - The profile follows the text grammar of a 3.x profile. Its numbers are NOT StarRocks
//     measurements: Total and CPU time are the backend's wall time, rows read come from
//     MariaDB's Handler_read_* counters of the session, bytes read are rows x 64 and peak
//     memory is 1 MiB + the result's bytes. They move when the backend's work moves, which is
//     what compare-baseline's resource checks need.
//   - EXPLAIN [COSTS|VERBOSE] <query> renders a StarRocks-shaped plan (OlapScanNode per table,
//     left-deep HASH JOINs with the build side behind an EXCHANGE) from MariaDB's EXPLAIN of the
//     query: the rollup is the index MariaDB chose (the table itself for a full scan).
//     EXPLAIN LOGICAL is refused.
//   - KILL QUERY <id> is forwarded: connection ids are the backend's, so the kill reaches the
//     running query, which ends with the backend's error.
//
// Errors keep the backend's codes and messages (StarRocks' own differ).
package starrocksdouble

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/internal/mysqlwire"
)

// Options configure the double.
type Options struct {
	// Backend is the go-sql-driver DSN of the server that runs forwarded statements.
	Backend string
	// Version is what current_version() answers; default "3.5.2-69de616".
	Version string
	// AsyncProfileDelay is how long after a query its profile appears when
	// enable_async_profile is true; default 500ms.
	AsyncProfileDelay time.Duration
	// User and Password, when User is set, are the only credentials accepted.
	User, Password string
	Logger         *slog.Logger
}

// Server is a running double.
type Server struct {
	opts    Options
	backend *sql.DB
	ln      net.Listener
	nextID  atomic.Uint32
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc

	mu       sync.Mutex
	profiles map[string]storedProfile
	order    []string // profile ids, oldest first
	sets     []SetRecord
	conns    map[*mysqlwire.Conn]struct{}
}

type storedProfile struct {
	text    string
	visible time.Time
}

// SetRecord is one SET statement a client sent, with the session's backend connection id.
type SetRecord struct {
	ConnID   int64
	Variable string
	Value    string
}

// profileReservedNum is StarRocks' profile_info_reserved_num default.
const profileReservedNum = 500

// Start listens on addr (e.g. "127.0.0.1:0") and serves until Close.
func Start(addr string, opts Options) (*Server, error) {
	if opts.Version == "" {
		opts.Version = "3.5.2-69de616"
	}
	if opts.AsyncProfileDelay == 0 {
		opts.AsyncProfileDelay = 500 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := mysql.ParseDSN(opts.Backend)
	if err != nil {
		return nil, fmt.Errorf("backend DSN: %w", err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	backend := sql.OpenDB(conn)
	backend.SetMaxIdleConns(0) // a client's session state must not reach the next client
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		backend.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{opts: opts, backend: backend, ln: ln, ctx: ctx, cancel: cancel,
		profiles: map[string]storedProfile{}, conns: map[*mysqlwire.Conn]struct{}{}}
	s.wg.Go(s.accept)
	return s, nil
}

// Addr is the listening address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// DSN is a go-sql-driver DSN for a client of the double.
func (s *Server) DSN(user, password, db string) string {
	cred := user
	if password != "" {
		cred += ":" + password
	}
	return fmt.Sprintf("%s@tcp(%s)/%s", cred, s.Addr(), db)
}

// Sets lists the SET statements clients sent, in order.
func (s *Server) Sets() []SetRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SetRecord(nil), s.sets...)
}

// Close stops accepting, closes every client connection and waits for the sessions to end.
func (s *Server) Close() error {
	s.cancel()
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return errors.Join(err, s.backend.Close())
}

func (s *Server) accept() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := mysqlwire.NewConn(nc, s.nextID.Add(1))
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			if err := s.serve(c); err != nil && !errors.Is(err, net.ErrClosed) {
				s.opts.Logger.Debug("session ended", "conn", c.ID, "err", err)
			}
		})
	}
}

// session is one client connection's state.
type session struct {
	c       *mysqlwire.Conn
	backend *sql.Conn
	connID  int64             // the backend's connection id, which KILL QUERY takes
	vars    map[string]string // StarRocks session variables set by the client
	lastID  string            // id of the previous query
}

// starRocksVars are the session variables the double keeps (StarRocks-only, or meaning
// something else in MariaDB), with their defaults.
var starRocksVars = map[string]string{
	"enable_profile": "false", "enable_async_profile": "true", "enable_query_cache": "false",
	"use_page_cache": "true", "enable_scan_datacache": "true", "enable_populate_datacache": "true",
	"enable_materialized_view_rewrite": "true", "query_timeout": "300", "pipeline_dop": "0",
	"custom_query_id": "", "big_query_profile_threshold": "0s", "enable_sql_digest": "false",
	"pipeline_profile_level": "1", "runtime_profile_report_interval": "10",
}

func (s *Server) serve(c *mysqlwire.Conn) error {
	scramble := make([]byte, 20)
	rand.Read(scramble)
	for i, b := range scramble {
		scramble[i] = b&0x7f | 1 // printable-ish, never NUL
	}
	var auth mysqlwire.Authenticator
	if s.opts.User != "" {
		auth = mysqlwire.NativePassword(s.opts.User, s.opts.Password)
	}
	if err := c.Handshake(s.opts.Version+"-srctl-double", scramble, auth); err != nil {
		return err
	}
	backend, err := s.backend.Conn(s.ctx)
	if err != nil {
		c.ResetSequence()
		return errors.Join(err, s.fail(c, err))
	}
	defer backend.Close()
	sess := &session{c: c, backend: backend, vars: map[string]string{}}
	if err := backend.QueryRowContext(s.ctx, "SELECT CONNECTION_ID()").Scan(&sess.connID); err != nil {
		return err
	}
	if c.DB != "" {
		if _, err := backend.ExecContext(s.ctx, "USE "+quoteIdent(c.DB)); err != nil {
			return err
		}
	}
	for {
		c.ResetSequence()
		p, err := c.ReadPacket()
		if err != nil {
			return err
		}
		if len(p) == 0 {
			return fmt.Errorf("empty command packet")
		}
		switch p[0] {
		case mysqlwire.ComQuit:
			return nil
		case mysqlwire.ComPing:
			err = c.WriteOK(0, 0)
		case mysqlwire.ComInitDB:
			err = s.forward(sess, "USE "+quoteIdent(string(p[1:])), false)
		case mysqlwire.ComQuery:
			err = s.query(sess, string(p[1:]))
		default:
			err = c.WriteError(1047, "08S01", fmt.Sprintf("command 0x%02x is not supported by the StarRocks test double", p[0]))
		}
		if err != nil {
			return err
		}
		if err := c.Flush(); err != nil {
			return err
		}
	}
}

// fail answers with an error built from a backend error.
func (s *Server) fail(c *mysqlwire.Conn, err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return c.WriteError(me.Number, string(me.SQLState[:]), me.Message)
	}
	return c.WriteError(1105, "HY000", err.Error())
}

var (
	reSet         = regexp.MustCompile(`(?is)^\s*SET\s+(?:SESSION\s+|@@session\.|@@)?([a-z_][a-z0-9_]*)\s*(?:=|:=)\s*(.+?)\s*;?\s*$`)
	reCurrentVer  = regexp.MustCompile(`(?is)^\s*SELECT\s+current_version\(\)\s*;?\s*$`)
	reLastQueryID = regexp.MustCompile(`(?is)^\s*SELECT\s+last_query_id\(\)\s*;?\s*$`)
	reGetProfile  = regexp.MustCompile(`(?is)^\s*SELECT\s+get_query_profile\(\s*'([^']*)'\s*\)\s*;?\s*$`)
	reExplain     = regexp.MustCompile(`(?is)^\s*EXPLAIN\s+(?:(COSTS|VERBOSE|LOGICAL)\b)?(.*)$`)
	reQueryStmt   = regexp.MustCompile(`(?is)^(SELECT|WITH|\()`)
)

// stripLeadingComments drops the whitespace and comments (/* */, -- and #) before a
// statement's first keyword, which decide nothing about what the statement is.
func stripLeadingComments(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		switch {
		case strings.HasPrefix(s, "/*") && !strings.HasPrefix(s, "/*!"):
			end := strings.Index(s[2:], "*/")
			if end < 0 {
				return ""
			}
			s = s[2+end+2:]
		case strings.HasPrefix(s, "--"), strings.HasPrefix(s, "#"):
			nl := strings.IndexByte(s, '\n')
			if nl < 0 {
				return ""
			}
			s = s[nl+1:]
		default:
			return s
		}
	}
}

func (s *Server) query(sess *session, text string) error {
	stmt := stripLeadingComments(text)
	c := sess.c
	switch {
	case reCurrentVer.MatchString(stmt):
		return writeSingle(c, "current_version()", s.opts.Version)
	case reLastQueryID.MatchString(stmt):
		return writeSingle(c, "last_query_id()", sess.lastID)
	case reGetProfile.MatchString(stmt):
		id := reGetProfile.FindStringSubmatch(stmt)[1]
		return writeSingle(c, "get_query_profile('"+id+"')", s.profile(id))
	case reSet.MatchString(stmt):
		m := reSet.FindStringSubmatch(stmt)
		name, val := strings.ToLower(m[1]), strings.Trim(m[2], `'"`)
		s.mu.Lock()
		s.sets = append(s.sets, SetRecord{ConnID: sess.connID, Variable: name, Value: val})
		s.mu.Unlock()
		if _, ok := starRocksVars[name]; ok {
			sess.vars[name] = strings.ToLower(val)
			return c.WriteOK(0, 0)
		}
		return s.forward(sess, text, false)
	case reExplain.MatchString(stmt):
		m := reExplain.FindStringSubmatch(stmt)
		if strings.EqualFold(m[1], "LOGICAL") {
			return c.WriteError(1064, "42000", "EXPLAIN LOGICAL is not supported by the StarRocks test double")
		}
		return s.explain(sess, stripLeadingComments(m[2]))
	case reQueryStmt.MatchString(stmt):
		return s.forward(sess, text, true)
	}
	return s.forward(sess, text, false)
}

func (sess *session) flag(name string) bool {
	v, ok := sess.vars[name]
	if !ok {
		v = starRocksVars[name]
	}
	return v == "true" || v == "1" || v == "on"
}

// writeSingle answers a one-row, one-column result.
func writeSingle(c *mysqlwire.Conn, name, value string) error {
	if err := c.WriteColumns([]mysqlwire.Column{{Name: name, Type: mysqlwire.TypeVarString, Length: 65533}}); err != nil {
		return err
	}
	if err := c.WriteRow([][]byte{[]byte(value)}); err != nil {
		return err
	}
	return c.EndRows()
}

// forward runs text on the session's backend connection and relays the result. A query
// (isQuery) gets a query id and, when profiling is on, a profile.
func (s *Server) forward(sess *session, text string, isQuery bool) error {
	c := sess.c
	var before handlerReads
	profiling := isQuery && sess.flag("enable_profile")
	if profiling {
		before = s.handlerReads(sess)
	}
	start := time.Now()
	rows, err := sess.backend.QueryContext(s.ctx, text)
	if err != nil {
		if isQuery {
			sess.lastID = newUUID()
		}
		return s.fail(c, err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return s.fail(c, err)
	}
	if len(types) == 0 {
		if err := rows.Close(); err != nil {
			return s.fail(c, err)
		}
		return c.WriteOK(0, 0)
	}
	cols := make([]mysqlwire.Column, len(types))
	for i, t := range types {
		cols[i] = columnOf(t)
	}
	// The column definitions wait until the first row or the end: an error that the backend
	// raises before any row (a KILL, a runtime error) must reach the client as an ERR packet,
	// not after a header it can no longer take back.
	vals := make([]sql.RawBytes, len(types))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	out := make([][]byte, len(vals))
	headerSent := false
	var rowCount, resultBytes int64
	for rows.Next() {
		for i := range vals {
			if vals[i] == nil {
				vals[i] = make(sql.RawBytes, 0, 16)
			}
		}
		if err := rows.Scan(ptrs...); err != nil {
			return s.fail(c, err)
		}
		if !headerSent {
			if err := c.WriteColumns(cols); err != nil {
				return err
			}
			headerSent = true
		}
		for i, v := range vals {
			out[i] = nil
			if v != nil {
				out[i] = v
			}
			resultBytes += int64(len(v))
		}
		if err := c.WriteRow(out); err != nil {
			return err
		}
		rowCount++
	}
	elapsed := time.Since(start)
	if err := rows.Err(); err != nil {
		if isQuery {
			sess.lastID = newUUID()
		}
		// Before any row or mid-result, an ERR ends the exchange, as servers do.
		return s.fail(c, err)
	}
	if !headerSent {
		if err := c.WriteColumns(cols); err != nil {
			return err
		}
	}
	if isQuery {
		sess.lastID = newUUID()
		if profiling {
			reads := s.handlerReads(sess).minus(before)
			s.storeProfile(sess, sess.lastID, text, elapsed, reads, rowCount, resultBytes)
		}
	}
	return c.EndRows()
}

// columnOf maps the backend's column type to a protocol field type.
func columnOf(t *sql.ColumnType) mysqlwire.Column {
	name := strings.ToUpper(t.DatabaseTypeName())
	col := mysqlwire.Column{Name: t.Name(), Length: 255}
	if rest, ok := strings.CutPrefix(name, "UNSIGNED "); ok {
		name, col.Flags = rest, mysqlwire.FlagUnsigned
	}
	switch name {
	case "TINYINT":
		col.Type = mysqlwire.TypeTiny
	case "SMALLINT":
		col.Type = mysqlwire.TypeShort
	case "MEDIUMINT":
		col.Type = mysqlwire.TypeInt24
	case "INT":
		col.Type = mysqlwire.TypeLong
	case "BIGINT":
		col.Type = mysqlwire.TypeLongLong
	case "FLOAT":
		col.Type = mysqlwire.TypeFloat
	case "DOUBLE":
		col.Type = mysqlwire.TypeDouble
	case "DECIMAL":
		col.Type = mysqlwire.TypeNewDecimal
		if _, scale, ok := t.DecimalSize(); ok {
			col.Decimals = byte(scale)
		}
	case "DATE":
		col.Type = mysqlwire.TypeDate
	case "DATETIME":
		col.Type = mysqlwire.TypeDateTime
	case "TIMESTAMP":
		col.Type = mysqlwire.TypeTimestamp
	case "TIME":
		col.Type = mysqlwire.TypeTime
	case "YEAR":
		col.Type = mysqlwire.TypeYear
	case "BIT":
		col.Type = mysqlwire.TypeBit
	case "JSON":
		col.Type = mysqlwire.TypeJSON
	case "NULL":
		col.Type = mysqlwire.TypeNull
	case "BLOB", "TEXT":
		col.Type = mysqlwire.TypeBlob
	case "BINARY", "VARBINARY":
		col.Type, col.Flags = mysqlwire.TypeVarString, col.Flags|mysqlwire.FlagBinary
	case "CHAR":
		col.Type = mysqlwire.TypeString
	default:
		col.Type = mysqlwire.TypeVarString
	}
	return col
}

// handlerReads are MariaDB's per-session row-read counters.
type handlerReads struct{ rows int64 }

func (h handlerReads) minus(o handlerReads) handlerReads { return handlerReads{h.rows - o.rows} }

func (s *Server) handlerReads(sess *session) handlerReads {
	rows, err := sess.backend.QueryContext(s.ctx, "SHOW SESSION STATUS LIKE 'Handler_read%'")
	if err != nil {
		return handlerReads{}
	}
	defer rows.Close()
	var h handlerReads
	for rows.Next() {
		var name string
		var v int64
		if rows.Scan(&name, &v) == nil && name != "Handler_read_key" {
			h.rows += v
		}
	}
	return h
}

func (s *Server) storeProfile(sess *session, id, sqlText string, elapsed time.Duration, reads handlerReads, resultRows, resultBytes int64) {
	visible := time.Now()
	if sess.flag("enable_async_profile") {
		visible = visible.Add(s.opts.AsyncProfileDelay)
	}
	text := renderProfile(id, s.opts.Version, sqlText, elapsed, reads.rows, resultRows, resultBytes)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profiles[id] = storedProfile{text: text, visible: visible}
	s.order = append(s.order, id)
	for len(s.order) > profileReservedNum {
		delete(s.profiles, s.order[0])
		s.order = s.order[1:]
	}
}

func (s *Server) profile(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.profiles[id]
	if !ok || time.Now().Before(p.visible) {
		return ""
	}
	return p.text
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// formatDuration writes a duration the way StarRocks profiles do: 736ns, 12.321us,
// 57.717ms, 1s54ms, 9m41s.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 3, 64) + "us"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) + "ms"
	case d < time.Minute:
		return fmt.Sprintf("%ds%dms", d/time.Second, (d%time.Second)/time.Millisecond)
	}
	return fmt.Sprintf("%dm%ds", d/time.Minute, (d%time.Minute)/time.Second)
}

// formatBytes writes bytes as StarRocks profiles do (1024-based, three decimals).
func formatBytes(b int64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	v, u := float64(b), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return strconv.FormatFloat(v, 'f', 3, 64) + " " + units[u]
}

// formatCount writes a count as StarRocks profiles do: 89, 1.218K (1218).
func formatCount(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10)
	case n < 1_000_000:
		return fmt.Sprintf("%.3fK (%d)", float64(n)/1e3, n)
	case n < 1_000_000_000:
		return fmt.Sprintf("%.3fM (%d)", float64(n)/1e6, n)
	}
	return fmt.Sprintf("%.3fB (%d)", float64(n)/1e9, n)
}

// renderProfile writes a finished query's profile in StarRocks' text grammar (section 3).
func renderProfile(id, version, sqlText string, elapsed time.Duration, rowsRead, resultRows, resultBytes int64) string {
	scanTime := elapsed * 7 / 10
	peak := int64(1<<20) + resultBytes
	var b strings.Builder
	fmt.Fprintf(&b, "Query:\n  Summary:\n")
	fmt.Fprintf(&b, "     - Query ID: %s\n", id)
	fmt.Fprintf(&b, "     - Start Time: %s\n", time.Now().Add(-elapsed).Format("2006-01-02 15:04:05"))
	fmt.Fprintf(&b, "     - Total: %s\n", formatDuration(elapsed))
	fmt.Fprintf(&b, "     - Query Type: Query\n     - Query State: Finished\n")
	fmt.Fprintf(&b, "     - StarRocks Version: %s\n", version)
	fmt.Fprintf(&b, "     - User: root\n     - Default Db: test\n")
	fmt.Fprintf(&b, "     - Sql Statement: %s\n", strings.Join(strings.Fields(sqlText), " "))
	fmt.Fprintf(&b, "  Planner:\n     - -- Parser[1] 0\n     - -- Total[1] 1ms\n")
	fmt.Fprintf(&b, "  Execution:\n")
	fmt.Fprintf(&b, "     - Topology: {\"rootId\":1,\"nodes\":[{\"id\":1,\"name\":\"EXCHANGE\",\"properties\":{\"sinkIds\":[],\"displayMem\":true},\"children\":[0]},{\"id\":0,\"name\":\"OLAP_SCAN\",\"properties\":{\"sinkIds\":[1],\"displayMem\":false},\"children\":[]}]}\n")
	fmt.Fprintf(&b, "     - QueryAllocatedMemoryUsage: %s\n", formatBytes(peak*2))
	fmt.Fprintf(&b, "     - QueryCumulativeCpuTime: %s\n", formatDuration(elapsed))
	fmt.Fprintf(&b, "     - QueryCumulativeNetworkTime: 0ns\n")
	fmt.Fprintf(&b, "     - QueryCumulativeOperatorTime: %s\n", formatDuration(elapsed))
	fmt.Fprintf(&b, "     - QueryCumulativeScanTime: %s\n", formatDuration(scanTime))
	fmt.Fprintf(&b, "     - QueryExecutionWallTime: %s\n", formatDuration(elapsed))
	fmt.Fprintf(&b, "     - QueryPeakMemoryUsagePerNode: %s\n", formatBytes(peak))
	fmt.Fprintf(&b, "     - QuerySpillBytes: 0.000 B\n")
	fmt.Fprintf(&b, "     - QuerySumMemoryUsage: %s\n", formatBytes(peak))
	fmt.Fprintf(&b, "     - ResultDeliverTime: 0ns\n")
	fmt.Fprintf(&b, "    Fragment 0:\n       - InstancePeakMemoryUsage: %s\n", formatBytes(peak))
	fmt.Fprintf(&b, "      Pipeline (id=0):\n         - DegreeOfParallelism: 1\n")
	fmt.Fprintf(&b, "        RESULT_SINK (plan_node_id=-1):\n          CommonMetrics:\n             - OperatorTotalTime: %s\n", formatDuration(elapsed-scanTime))
	fmt.Fprintf(&b, "             - PushRowNum: %s\n", formatCount(resultRows))
	fmt.Fprintf(&b, "        OLAP_SCAN (plan_node_id=0):\n          CommonMetrics:\n             - OperatorTotalTime: %s\n", formatDuration(scanTime))
	fmt.Fprintf(&b, "             - PullRowNum: %s\n", formatCount(resultRows))
	fmt.Fprintf(&b, "          UniqueMetrics:\n")
	fmt.Fprintf(&b, "             - BytesRead: %s\n", formatBytes(rowsRead*64))
	fmt.Fprintf(&b, "             - RawRowsRead: %s\n", formatCount(rowsRead))
	fmt.Fprintf(&b, "             - RowsRead: %s\n", formatCount(rowsRead))
	return b.String()
}
