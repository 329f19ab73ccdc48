package profile

import (
	"reflect"
	"strings"
	"testing"
)

// The functions below are ScanHeadlines, nextLine and parseDuration as they were before their
// fast paths (December 2026), kept verbatim as references: the fuzz tests hold the fast versions
// to them on any input, well-formed or not, where agreement with Parse can only be checked on
// well-formed profiles.

func scanHeadlinesReference(text string) Headline {
	if looksLikeJSON(text) {
		// JSON profiles are rare (an FE-wide setting) and flatten counter groups, which the
		// scanner's indentation rules do not model: read them through the tree.
		return Parse(text).Headlines()
	}
	scratch := scratchPool.Get().(*scanScratch)
	defer func() {
		if cap(scratch.ops) <= maxPooledOps {
			scratchPool.Put(scratch)
		}
	}()
	const (
		secOther = iota
		secSummary
		secPlanner
		secExecution
	)
	var (
		h           Headline
		sec         = secOther
		secIndent   = -1
		execLevel   = -1 // indent of Execution's own entries
		execHasNode bool // a child node started: later entries are not query-level
		plannerSeen bool
		summaryLvl  = -1
		sqlIndent   = -1 // inside a multi-line Sql Statement
		ops         = scratch.ops[:0]
		cur         = -1 // index in ops of the open operator
		seenTotal   bool
		seenState   bool
		execSeen    uint32 // query-level keys already taken
	)
	for len(text) > 0 {
		content, indent, rest := nextLineReference(text)
		text = rest
		if content == "" {
			continue
		}
		isEntry, isNode := classify(content)
		if sqlIndent >= 0 {
			if !((isEntry && indent <= sqlIndent) || (isNode && indent < sqlIndent)) {
				continue
			}
			sqlIndent = -1
		}
		if isNode {
			name := content[:len(content)-1]
			if cur >= 0 && indent <= ops[cur].indent {
				cur = -1
			}
			if secIndent >= 0 && indent <= secIndent {
				sec, secIndent = secOther, -1
			}
			switch {
			case name == "Summary":
				sec, secIndent, summaryLvl = secSummary, indent, -1
			case name == "Planner":
				sec, secIndent = secPlanner, indent
			case name == "Execution" || strings.HasPrefix(name, "Execution Profile"):
				sec, secIndent, execLevel, execHasNode = secExecution, indent, -1, false
			default:
				if sec == secExecution {
					execHasNode = true
				}
				if sec == secSummary || sec == secPlanner {
					// A node inside Summary or Planner (e.g. "Reason:") ends neither section.
					break
				}
				if op, rest, ok := strings.Cut(name, " (plan_node_id="); ok && strings.HasSuffix(rest, ")") {
					if id, ok := parseInt(rest[:len(rest)-1]); ok && id >= -1<<31 && id < 1<<31 {
						ops = append(ops, scanOp{name: op, id: int(id), indent: indent})
						cur = len(ops) - 1
					}
				}
			}
			continue
		}
		if !isEntry {
			continue
		}
		body := strings.TrimPrefix(strings.TrimPrefix(content, "-"), " ")
		switch sec {
		case secSummary:
			if summaryLvl < 0 {
				summaryLvl = indent
			}
			key, val, _ := strings.Cut(body, ": ")
			if indent != summaryLvl {
				continue
			}
			switch {
			case key == "Sql Statement":
				sqlIndent = indent
			case key == "Total" && !seenTotal:
				seenTotal = true
				h.TotalNS, _ = parseValue(val).NS()
			case key == "Query State" && !seenState:
				seenState = true
				h.State = val
			}
		case secPlanner:
			if plannerSeen || !strings.Contains(body, "-- ") {
				continue
			}
			rest := body[strings.Index(body, "-- ")+3:]
			name, val, _ := strings.Cut(rest, " ")
			if i := strings.IndexByte(name, '['); i > 0 {
				name = name[:i]
			}
			if name == "Total" {
				plannerSeen = true
				h.PlannerNS, _ = parseValue(val).NS()
			}
		case secExecution:
			if cur >= 0 {
				// Most of a profile's lines are operator metrics, few of them read here: the key's
				// first byte rules out nearly all of them before any search for ": ".
				k, val, ok := operatorKey(body)
				if !ok || ops[cur].seen&(1<<k) != 0 {
					continue
				}
				op := &ops[cur]
				op.seen |= 1 << k
				read := amountValue
				if k == kOperatorTotalTime {
					read = durationValue
				}
				if n, ok := read(val); ok {
					op.vals[k], op.valid = n, op.valid|1<<k
				}
				continue
			}
			if execLevel < 0 && !execHasNode {
				execLevel = indent
			}
			if execHasNode || indent != execLevel {
				continue // fragment and pipeline counters: not query-level
			}
			key, val, _ := strings.Cut(body, ": ")
			for k, q := range execKeys {
				if key != q.name || execSeen&(1<<k) != 0 {
					continue
				}
				execSeen |= 1 << k
				v := parseValue(val)
				if q.bytes {
					if v.Kind == Bytes && !v.Unset {
						*q.dst(&h) = v.Int
					}
				} else {
					*q.dst(&h), _ = v.NS()
				}
			}
		}
	}

	scratch.ops = ops // keep what append grew for the next call
	times := scratch.times[:0]
	for i := range ops {
		op := &ops[i]
		if op.valid&(1<<kOperatorTotalTime) != 0 {
			ns := op.vals[kOperatorTotalTime]
			times = append(times, opTime{i, ns})
			h.OperatorTotalNS = satAdd(h.OperatorTotalNS, ns)
		}
		if !strings.HasSuffix(op.name, "_SCAN") {
			continue
		}
		h.ScanOperators++
		get := func(k int) int64 { return op.vals[k] } // 0 unless valid
		if b := get(kBytesRead); b > 0 {
			h.ScanBytes = satAdd(h.ScanBytes, b)
		} else {
			h.ScanBytes = satAdd(h.ScanBytes, get(kAppIOBytesRead))
		}
		h.ScanRawRows = satAdd(h.ScanRawRows, get(kRawRowsRead))
		h.ScanRows = satAdd(h.ScanRows, get(kRowsRead))
		h.ScanLocalBytes = satAdd(h.ScanLocalBytes, get(kLocal))
		h.ScanRemoteBytes = satAdd(satAdd(h.ScanRemoteBytes, get(kRemote)), get(kFSIO))
		h.DataCacheReadBytes = satAdd(h.DataCacheReadBytes, get(kDCRead))
		h.DataCacheWriteBytes = satAdd(h.DataCacheWriteBytes, get(kDCWrite))
	}
	scratch.times = times
	// The slowest TopOperatorCount operators, ties in profile order (a stable sort's top, without
	// sorting the hundreds of operators a profile can hold).
	var topBuf [TopOperatorCount]opTime
	top := topBuf[:0]
	for _, t := range times {
		p := len(top)
		for p > 0 && top[p-1].ns < t.ns {
			p--
		}
		if p == TopOperatorCount {
			continue
		}
		if len(top) < TopOperatorCount {
			top = append(top, opTime{})
		}
		copy(top[p+1:], top[p:len(top)-1])
		top[p] = t
	}
	for _, t := range top {
		share := 0.0
		if h.OperatorTotalNS > 0 {
			share = float64(t.ns) / float64(h.OperatorTotalNS)
		}
		h.TopOperators = append(h.TopOperators, OperatorTime{Name: ops[t.i].name, PlanNodeID: ops[t.i].id, NS: t.ns, Share: share})
	}
	return h
}

func nextLineReference(text string) (content string, indent int, rest string) {
	line := text
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		line, rest = text[:i], text[i+1:]
	}
	line = strings.TrimRight(line, "\r")
	for indent < len(line) && (line[indent] == ' ' || line[indent] == '\t') {
		indent++
	}
	return line[indent:], indent, rest
}

func parseDurationReference(s string) (int64, bool) {
	if s == "0" {
		return 0, true
	}
	var total int64
	i := 0
	for i < len(s) {
		var whole, frac, fracScale int64 = 0, 0, 1
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			if whole > 1e15 {
				return 0, false
			}
			whole = whole*10 + int64(s[j]-'0')
			j++
		}
		if j < len(s) && s[j] == '.' {
			j++
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				if fracScale < 1e9 { // digits past nanosecond precision are dropped
					frac, fracScale = frac*10+int64(s[j]-'0'), fracScale*10
				}
				j++
			}
		}
		if j == i || s[i] == '.' && j == i+1 {
			return 0, false
		}
		matched := false
		for _, u := range durationUnitsReference {
			if !strings.HasPrefix(s[j:], u.name) {
				continue
			}
			if u.name == "m" && strings.HasPrefix(s[j:], "ms") {
				continue // "m" must not swallow the "m" of "ms"
			}
			if u.name == "s" && j+1 < len(s) && s[j+1] >= 'a' && s[j+1] <= 'z' {
				continue
			}
			part := whole*u.ns + (frac*u.ns+fracScale/2)/fracScale
			if whole > maxAmount/u.ns || part > maxAmount-total {
				return 0, false // 99999999h: unreadable, not wrapped around to a negative
			}
			total += part
			j += len(u.name)
			matched = true
			break
		}
		if !matched {
			return 0, false
		}
		i = j
	}
	return total, true
}

var durationUnitsReference = []struct {
	name string
	ns   int64
}{{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"μs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}}

func FuzzScanHeadlinesMatchesReference(f *testing.F) {
	f.Add(readFixture(f, "hand-3x.txt"))
	f.Add(bigProfile(f, 8<<10))
	f.Add("Query:\n  Execution:\n     - QueryCumulativeCpuTime: 1s\n    X (plan_node_id=1):\n       - OperatorTotalTime: 5ms\n")
	f.Add("Query:\r\n  Summary:\r\n     - Total: 1s\r\r\n  Execution:\n    A (plan_node_id=1) (x):\n     - BytesRead: 1 KB\n\t- RowsRead: 2\n   \r\n-\n- \n-x: 1\n  B (plan_node_id=2):\n - RawRowsRead: 1.2K (1200)\n")
	f.Fuzz(func(t *testing.T, text string) {
		if got, want := ScanHeadlines(text), scanHeadlinesReference(text); !reflect.DeepEqual(got, want) {
			t.Errorf("ScanHeadlines(%q)\n got  %+v\n want %+v", text, got, want)
		}
	})
}

func FuzzNextLineMatchesReference(f *testing.F) {
	for _, s := range []string{"", "\n", "  a\r\nb", " \r \r", "\t\t- x: 1\r\r\n", "abc", "   "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, i, r := nextLine(text)
		wc, wi, wr := nextLineReference(text)
		if c != wc || i != wi || r != wr {
			t.Errorf("nextLine(%q) = %q, %d, %q; want %q, %d, %q", text, c, i, r, wc, wi, wr)
		}
	})
}

func FuzzParseDurationMatchesReference(f *testing.F) {
	for _, s := range []string{"0", "1s54ms", "9m41s", "5h55m", "12.321us", "1.5ms", "3µs", "3μs", "5sec", "5s", "1m", "1ms",
		"2ns", "2n", "99999999h", ".5s", "1.s", "1..5s", "4.523 GB", "1h1m1s1ms1us1ns", "1m5", "\xc2\xb5", "1\xce\xbcs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseDuration(s)
		want, wantOK := parseDurationReference(s)
		if got != want || ok != wantOK {
			t.Errorf("parseDuration(%q) = %d, %v; want %d, %v", s, got, ok, want, wantOK)
		}
	})
}

// TestScanHeadlinesMatchesReferenceOnSamples runs the references over the real profiles too.
func TestScanHeadlinesMatchesReferenceOnSamples(t *testing.T) {
	texts := sampleProfiles(t)
	texts["hand"], texts["generated-1MB"] = readFixture(t, "hand-3x.txt"), bigProfile(t, 1<<20)
	for name, text := range texts {
		if got, want := ScanHeadlines(text), scanHeadlinesReference(text); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %+v\n want %+v", name, got, want)
		}
		for rest := text; rest != ""; {
			c, i, r := nextLine(rest)
			if wc, wi, wr := nextLineReference(rest); c != wc || i != wi || r != wr {
				t.Fatalf("%s: nextLine differs at %q", name, strings.SplitN(rest, "\n", 2)[0])
			}
			rest = r
		}
	}
}

// FuzzLineHelpers holds the scan's string helpers to the library calls they replace.
func FuzzLineHelpers(f *testing.F) {
	for _, s := range []string{"", "OLAP_SCAN (plan_node_id=0)", "A (x) (plan_node_id=1)", "A(plan_node_id=1)", "(plan_node_id=",
		" (plan_node_id=", "Pipeline (id=0)", "CommonMetrics:", "a: b:", "a:b: ", ":", ": ", "        \t  x", "                 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		op, rest, ok := cutPlanNodeID(s)
		wop, wrest, wok := strings.Cut(s, " (plan_node_id=")
		if op != wop || rest != wrest || ok != wok {
			t.Errorf("cutPlanNodeID(%q) = %q, %q, %v; want %q, %q, %v", s, op, rest, ok, wop, wrest, wok)
		}
		if got, want := hasColonSpace(s), strings.Contains(s, ": "); got != want {
			t.Errorf("hasColonSpace(%q) = %v", s, got)
		}
		want := 0
		for want < len(s) && (s[want] == ' ' || s[want] == '\t') {
			want++
		}
		if got := leadingSpaces(s); got != want {
			t.Errorf("leadingSpaces(%q) = %d, want %d", s, got, want)
		}
	})
}
