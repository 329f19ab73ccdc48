// Package trafficgen generates synthetic shadow-proxy logs and query-profile records with planted
// differences, for srctl diff's demo, tests and benchmarks. It is a test-data generator, not a
// model of any real workload: latencies are log-normal per endpoint, the shadow's latency is the
// primary's times a per-endpoint factor times noise, and the quirks of the existing proxy
// (FORMATS.md section 1) are reproduced on purpose: SQL errors logged as successes, dropped
// shadow rows, primary-only connections, filtered synthetic rows, duplicates, pairs straddling
// hour files, COM_STMT_EXECUTE rows without text.
package trafficgen

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/srctl/srctl/lakehouse"
)

// Planted differences, by endpoint name.
const (
	RegressedEndpoint   = "/api/v1/orders/:id"      // shadow 60% slower everywhere
	TailEndpoint        = "/api/v1/search"          // shadow slower only in the tail
	ImprovedEndpoint    = "/api/v1/users/:id"       // shadow 35% faster
	FailingEndpoint     = "/api/v1/reports/daily"   // 8% of shadow rows time out
	DivergentEndpoint   = "/api/v1/inventory/stock" // shadow answers with an ERR packet (logged as success)
	LargeResultEndpoint = "/api/v1/export"          // big results: shadow looks faster (quirk 2)
)

// Config shapes the data.
type Config struct {
	Dir       string    // output root: logs under Dir/shadow-logs, profiles under Dir/starrocks-query-profiles
	Queries   int       // mirrored queries (each gives a primary and a shadow row)
	Endpoints int       // distinct groups; at least 8
	Start     time.Time // first query
	Hours     int       // spread over this many hours (one file per hour)
	Seed      uint64
	// AA makes both sides draw from the same distribution with no planted difference: an A/A run.
	AA bool
	// Quirks adds the proxy's data-quality quirks (duplicates, drops, filtered rows, primary-only
	// connections, a few bad lines).
	Quirks bool
	// ProfileEvery writes a profile record for both clusters for one query in this many (0: none).
	ProfileEvery int
	// FixAt, when set, plants a fix for srctl validate: from this moment the shadow's regression
	// of RegressedEndpoint is gone (its latency and its profiles' scans are the primary's).
	FixAt time.Time
	// Shape is the SQL the rows carry: ShapeClassic (the default: short point queries) or
	// ShapeReal, the shape of production logs written by a Go proxy: analytic SQL of 100 B to
	// 20 KB per endpoint, full of <, > and & that encoding/json escapes as \u003c \u003e \u0026,
	// a sqlcommenter route and a traceparent in every tagged text, and about 3% of rows for
	// commands without text (COM_PING, COM_INIT_DB, COM_STMT_CLOSE).
	Shape string
}

// The shapes of Config.Shape.
const (
	ShapeClassic = "classic"
	ShapeReal    = "real"
)

type endpoint struct {
	name    string
	style   int // 0 sqlcommenter+traceparent, 1 Marginalia, 2 untagged
	table   string
	mu      float64 // log-normal location of the primary latency, ms
	sigma   float64
	factor  float64 // shadow/primary
	tail    bool    // factor applies to 5% of queries only, times 4
	fail    float64 // shadow transport-failure rate
	diverge bool
	bytes   int64
	weight  float64
	// analytic is the real shape's SQL of this endpoint, a %d for the literal that varies.
	analytic string
}

// Stats describe what Generate wrote.
type Stats struct {
	Files, Rows, Profiles int
	Bytes                 int64
}

// Generate writes the logs (and profiles) and returns what it wrote.
func Generate(cfg Config) (Stats, error) {
	if cfg.Endpoints < 8 {
		cfg.Endpoints = 8
	}
	if cfg.Hours <= 0 {
		cfg.Hours = 1
	}
	switch cfg.Shape {
	case "", ShapeClassic, ShapeReal:
	default:
		return Stats{}, fmt.Errorf("shape %q: want %s or %s", cfg.Shape, ShapeClassic, ShapeReal)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	eps := endpoints(cfg, rng)
	var cum []float64
	total := 0.0
	for _, e := range eps {
		total += e.weight
		cum = append(cum, total)
	}
	pick := func() *endpoint {
		x := rng.Float64() * total
		for i, c := range cum {
			if x < c {
				return &eps[i]
			}
		}
		return &eps[len(eps)-1]
	}

	logDir := filepath.Join(cfg.Dir, "shadow-logs")
	w := &hourWriter{root: logDir}
	defer w.close()
	var pw *hourWriter
	if cfg.ProfileEvery > 0 {
		pw = &hourWriter{root: filepath.Join(cfg.Dir, "starrocks-query-profiles")}
		defer pw.close()
	}
	span := time.Duration(cfg.Hours) * time.Hour
	step := span / time.Duration(max(cfg.Queries, 1))
	var st Stats
	var buf []byte
	for i := range cfg.Queries {
		e := pick()
		start := cfg.Start.Add(time.Duration(i) * step)
		client := fmt.Sprintf("10.0.0.%d:%d", i%50, 40000+i%50) // a pool of 50 connections
		primaryOnlyConn := cfg.Quirks && i%500 == 7
		if primaryOnlyConn {
			client = fmt.Sprintf("10.9.9.9:%d", 50000+i%10) // the shadow login failed for these connections
		}
		sql, cmd := e.sql(i, rng), "COM_QUERY"
		if e.style == 3 {
			sql, cmd = "", "COM_STMT_EXECUTE"
		}
		p := math.Exp(e.mu + e.sigma*rng.NormFloat64())
		f := e.factor
		fixed := !cfg.FixAt.IsZero() && !start.Before(cfg.FixAt) && e.name == RegressedEndpoint
		if fixed {
			f = 1
		}
		if e.tail {
			f = 1
			if rng.Float64() < 0.05 {
				f = 4
			}
		}
		if cfg.AA {
			f = 1
		}
		s := p * f * math.Exp(0.08*rng.NormFloat64())
		if cfg.AA {
			// Same distribution both sides: independent noise around the same centre.
			p *= math.Exp(0.08 * rng.NormFloat64())
		}
		if e.bytes >= 1<<20 && !cfg.AA {
			s *= 0.6 // the shadow does not stream the result to a client
		}
		id := uuid(rng)
		pTS := start.Add(ms(p))
		sTS := start.Add(ms(s) + 2*time.Millisecond)
		resp := e.bytes + int64(rng.IntN(64))
		prim := row{ts: pTS, id: id, target: "primary", cmd: cmd, sql: sql, dur: p, sent: int64(len(sql) + 5), recv: resp, ok: true, client: client}
		shad := prim
		shad.target, shad.ts, shad.dur = "shadow", sTS, s
		if !cfg.AA {
			shad.recv = resp + 12 // constant protocol difference between versions
			switch {
			case e.diverge && rng.Float64() < 0.8:
				shad.recv = 47 // an ERR packet; the proxy still logs success
			case e.fail > 0 && rng.Float64() < e.fail:
				shad.ok, shad.err, shad.dur = false, "read tcp 10.1.0.5:51234->10.2.0.9:9030: i/o timeout", 30000
			}
		}
		filtered := cfg.Quirks && i%97 == 3
		if filtered {
			shad = row{ts: pTS, id: id, target: "shadow", cmd: cmd, sql: sql, ok: true, client: client, filtered: true, reason: "sampling"}
		}
		buf = prim.append(buf[:0])
		if err := w.write(pTS, buf); err != nil {
			return st, err
		}
		st.Rows++
		if cfg.Quirks && i%1000 == 11 {
			if err := w.write(pTS, buf); err != nil { // a duplicated row
				return st, err
			}
			st.Rows++
		}
		dropped := cfg.Quirks && i%333 == 5
		if !primaryOnlyConn && !dropped {
			buf = shad.append(buf[:0])
			if err := w.write(sTS, buf); err != nil {
				return st, err
			}
			st.Rows++
		}
		if cfg.Shape == ShapeReal && i%33 == 0 { // a command without text, on both sides
			other := row{ts: pTS, id: uuid(rng), target: "primary", cmd: otherCommands[i/33%len(otherCommands)], dur: 0.05 + rng.Float64()*0.1,
				sent: 5, recv: 11, ok: true, client: client}
			buf = other.append(buf[:0])
			if err := w.write(pTS, buf); err != nil {
				return st, err
			}
			other.target, other.dur = "shadow", other.dur*1.1
			buf = other.append(buf[:0])
			if err := w.write(pTS, buf); err != nil {
				return st, err
			}
			st.Rows += 2
		}
		if cfg.Quirks && i%50000 == 17 {
			if err := w.write(pTS, []byte(`{"ts":"2026-03-05T14:00:00Z","query_id":"trunc`+"\n")); err != nil {
				return st, err
			}
		}
		if pw != nil && cmd == "COM_QUERY" && i%cfg.ProfileEvery == 0 {
			for _, side := range []struct {
				cluster string
				r       *row
			}{{"primary", &prim}, {"shadow", &shad}} {
				if side.r.filtered {
					continue
				}
				rec := profileRecord(side.cluster, e, side.r, start, i, cfg.AA || fixed)
				b, err := json.Marshal(rec)
				if err != nil {
					return st, err
				}
				if err := pw.write(start, append(b, '\n')); err != nil {
					return st, err
				}
				st.Profiles++
			}
		}
	}
	if err := w.close(); err != nil {
		return st, err
	}
	if pw != nil {
		if err := pw.close(); err != nil {
			return st, err
		}
	}
	st.Files, st.Bytes = w.files, w.bytes
	return st, nil
}

func ms(x float64) time.Duration { return time.Duration(x * float64(time.Millisecond)) }

// otherCommands are the commands without text of the real shape.
var otherCommands = []string{"COM_PING", "COM_INIT_DB", "COM_STMT_CLOSE"}

func endpoints(cfg Config, rng *rand.Rand) []endpoint {
	planted := []endpoint{
		{name: RegressedEndpoint, table: "orders", mu: math.Log(40), sigma: 0.5, factor: 1.6, bytes: 2048},
		{name: TailEndpoint, table: "products", mu: math.Log(120), sigma: 0.4, tail: true, bytes: 8192},
		{name: ImprovedEndpoint, table: "users", mu: math.Log(15), sigma: 0.3, factor: 0.65, bytes: 512},
		{name: FailingEndpoint, table: "daily_reports", mu: math.Log(900), sigma: 0.3, factor: 1, fail: 0.08, bytes: 32768},
		{name: DivergentEndpoint, table: "stock", mu: math.Log(25), sigma: 0.3, factor: 1, diverge: true, bytes: 4096},
		{name: LargeResultEndpoint, table: "events", mu: math.Log(2500), sigma: 0.3, factor: 1, bytes: 4 << 20},
		{name: "users#show", style: 1, table: "accounts", mu: math.Log(8), sigma: 0.4, factor: 1, bytes: 700},
		{name: "", style: 3, mu: math.Log(5), sigma: 0.4, factor: 1, bytes: 300},
	}
	var out []endpoint
	for i := 0; i < cfg.Endpoints; i++ {
		var e endpoint
		if i < len(planted) {
			e = planted[i]
		} else {
			e = endpoint{name: fmt.Sprintf("/api/v1/resource%02d/:id", i), table: fmt.Sprintf("t%02d", i),
				mu: math.Log(5 + rng.Float64()*200), sigma: 0.3 + rng.Float64()*0.4, factor: 1, bytes: int64(200 + rng.IntN(20000))}
			if i%5 == 0 {
				e.style, e.name = 2, "" // untagged: grouped by fingerprint
			}
		}
		if cfg.Shape == ShapeReal && e.style == 0 {
			// Most texts are short (the whole 1M-query log of the issue is 870 MB); one endpoint
			// in 50 carries a long report, log-uniform up to 20 KB.
			size := 100 + 150*rng.Float64()
			if rng.Float64() < 0.02 {
				size = 250 * math.Pow(80, rng.Float64())
			}
			e.analytic = analyticSQL(e.table, size, rng)
		}
		e.weight = 1 / math.Pow(float64(i+1), 0.6)
		if i < 6 {
			e.weight = math.Max(e.weight, 0.3)
		}
		out = append(out, e)
	}
	return out
}

func (e *endpoint) sql(i int, rng *rand.Rand) string {
	switch e.style {
	case 1: // Marginalia, prepended; literals from a small set so identical texts repeat
		return fmt.Sprintf("/*application:Shop,controller:users,action:show*/ SELECT * FROM %s WHERE id = %d", e.table, rng.IntN(50))
	case 2:
		return fmt.Sprintf("SELECT status, count(*) FROM %s WHERE created_at >= '2026-03-0%d' GROUP BY status", e.table, 1+rng.IntN(5))
	}
	trace := fmt.Sprintf("00-%016x%016x-%016x-01", rng.Uint64(), rng.Uint64(), rng.Uint64())
	if e.analytic != "" {
		return fmt.Sprintf(e.analytic, rng.IntN(1_000_000)) + fmt.Sprintf(" /*application='shop',route='%s',traceparent='%s'*/", urlEscape(e.name), trace)
	}
	return fmt.Sprintf("SELECT o.id, o.total, c.name FROM %s o JOIN customers c ON c.id = o.customer_id WHERE o.id = %d AND o.created_at > '2026-01-01' "+
		"/*application='shop',route='%s',traceparent='%s'*/", e.table, rng.IntN(1_000_000), urlEscape(e.name), trace)
}

// analyticSQL is a query of about size bytes on table: range predicates, bit tests and CASE
// expressions (many <, > and &, which the proxy's encoder escapes), one %d for a varying literal.
func analyticSQL(table string, size float64, rng *rand.Rand) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT count(*) FROM %s o WHERE o.tenant_id = %%d AND o.ts >= '2026-03-01' AND (o.flags & 4) = 0", table)
	for k := 0; b.Len() < int(size)-40; k++ {
		lo := rng.IntN(1000)
		switch k % 3 {
		case 0:
			fmt.Fprintf(&b, " AND (o.c%d >= %d AND o.c%d < %d)", k, lo, k, lo+rng.IntN(500)+1)
		case 1:
			fmt.Fprintf(&b, " AND (o.m%d & %d) <> 0", k, 1+rng.IntN(64))
		default:
			fmt.Fprintf(&b, " AND CASE WHEN o.v%d > %d THEN 1 WHEN o.v%d <= %d THEN 2 ELSE 0 END > 0", k, lo, k, lo/2)
		}
	}
	return b.String()
}

// urlEscape percent-encodes the way sqlcommenter does for route values (/ and : included).
func urlEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b = append(b, c)
		} else {
			b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
		}
	}
	return string(b)
}

func uuid(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

type row struct {
	ts         time.Time
	id, target string
	cmd, sql   string
	dur        float64
	sent, recv int64
	ok         bool
	err        string
	client     string
	filtered   bool
	reason     string
}

// append encodes the row the way the proxy's Go encoder does (same key order, HTML-safe escapes).
func (r *row) append(b []byte) []byte {
	b = append(b, `{"ts":"`...)
	b = r.ts.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","query_id":"`...)
	b = append(b, r.id...)
	b = append(b, `","target":"`...)
	b = append(b, r.target...)
	b = append(b, `","command":"`...)
	b = append(b, r.cmd...)
	b = append(b, '"')
	if r.sql != "" {
		b = append(b, `,"query_text":`...)
		b = appendString(b, r.sql)
		sum := md5.Sum([]byte(r.sql))
		b = append(b, `,"query_hash":"`...)
		b = hex.AppendEncode(b, sum[:])
		b = append(b, '"')
	}
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, math.Round(r.dur*1000)/1000, 'f', -1, 64)
	b = append(b, `,"bytes_sent":`...)
	b = strconv.AppendInt(b, r.sent, 10)
	b = append(b, `,"bytes_recv":`...)
	b = strconv.AppendInt(b, r.recv, 10)
	b = append(b, `,"success":`...)
	b = strconv.AppendBool(b, r.ok)
	if r.err != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, r.err)
	}
	b = append(b, `,"client_addr":"`...)
	b = append(b, r.client...)
	b = append(b, '"')
	if r.filtered {
		b = append(b, `,"filtered":true,"filter_reason":"`...)
		b = append(b, r.reason...)
		b = append(b, '"')
	}
	return append(b, "}\n"...)
}

func appendString(b []byte, s string) []byte {
	enc, _ := json.Marshal(s) // the proxy's own encoder; strings are short
	return append(b, enc...)
}

// hourWriter appends rows to one file per hour partition. Rows arrive almost in time order but
// a shadow row can fall into the next hour before the last primary rows of this one, so the
// writers of recent hours stay open.
type hourWriter struct {
	root  string
	open  map[time.Time]*hourFile
	files int
	bytes int64
}

type hourFile struct {
	f *os.File
	w *bufio.Writer
}

func (h *hourWriter) write(ts time.Time, line []byte) error {
	hour := ts.UTC().Truncate(time.Hour)
	hf := h.open[hour]
	if hf == nil {
		var err error
		if hf, err = h.create(hour); err != nil {
			return err
		}
		for t, old := range h.open {
			if t.Before(hour.Add(-time.Hour)) {
				if err := old.close(); err != nil {
					return err
				}
				delete(h.open, t)
			}
		}
	}
	h.bytes += int64(len(line))
	_, err := hf.w.Write(line)
	return err
}

func (h *hourWriter) create(hour time.Time) (*hourFile, error) {
	dir := filepath.Join(h.root, filepath.FromSlash(lakehouse.PartitionDir(hour)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, hour.Format("20060102_150405")+"_a1b2c3d4.jsonl"))
	if err != nil {
		return nil, err
	}
	hf := &hourFile{f: f, w: bufio.NewWriterSize(f, 1<<20)}
	if h.open == nil {
		h.open = map[time.Time]*hourFile{}
	}
	h.open[hour] = hf
	h.files++
	return hf, nil
}

func (hf *hourFile) close() error {
	err := hf.w.Flush()
	if cerr := hf.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (h *hourWriter) close() error {
	var first error
	for t, hf := range h.open {
		if err := hf.close(); err != nil && first == nil {
			first = err
		}
		delete(h.open, t)
	}
	return first
}
