package collector

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/srctl/srctl/lakehouse"
)

// The journal is the collector's local write-ahead log, in --state-dir/journal. Everything the
// collector learns is appended to it as it happens, and made durable in batches (one fsync per
// journalSyncEvery, shared by every append in between):
//
//   - a "detail" entry for each terminal query_detail entry as soon as it is polled, before its
//     profile is fetched: from then on a SIGKILL does not lose the query, and the poll cursor may
//     pass it (a restart resumes its profile fetch from the journal, not from the FE, which may
//     have evicted the entry by then);
//   - a "record" entry when the record is complete (profile fetched, or given up). The writer
//     uploads records from the journal in batches; the checkpoint says up to which record the
//     sink has them (journalPos.Through), so a restart uploads the rest once.
//
// Entries carry a sequence number that grows across segments. A segment (a file of JSON lines,
// named by the first sequence number it holds) is done with when every record in it is uploaded
// and every detail in it has its record in the journal. A torn last line (a crash mid-append) is
// ignored on recovery: it was never acknowledged.
//
// With recycling on (Config.JournalRecycle, the default), a segment done with is kept as a spare
// (up to journalSpareSegments) and the next segment is written over it, as databases recycle
// their write-ahead log files: the journal writes every profile once more, hundreds of MB/s at
// thousands of queries/s, and writing into pages the file already has spares the kernel a fresh
// page for every 4 KiB (on a virtual machine that returns freed memory to its host, a fault in
// the host too). Before a segment is written over, the newline of each of its lines is
// overwritten, durably (makeSpares), so that what it still holds of its old life after the new
// lines reads, to every version, as the torn end of the segment: versions from before recycling
// (2026-12-06), which read a segment to its end, included, so a rollback reads the journal as
// this version does. Recovery reads a segment up to its last newline, so that this tail, up to a
// segment long, is never assembled in memory. Every line carries a CRC-32C of everything after
// its "crc" value, and recovery stops reading a segment at the first line numbered below the
// segment's own first sequence number (an old life: numbers only grow, and a spare is written
// over only as a segment numbered above all of its old lines): that is how it reads segments
// that versions of 2026-12-06 recycled without overwriting their newlines, where a line a crash
// cut short could be continued by an old line up to its newline.
type journal struct {
	dir string
	id  string // names this journal in checkpoints: a position in another journal means nothing here

	mu       sync.Mutex
	f        *os.File
	w        segmentWriter // appends to f
	segFirst int64         // first sequence number of the open segment
	segBytes int64         // bytes appended to the open segment
	seq      int64         // last sequence number given out
	segs     map[int64]*segmentInfo
	// openDetails maps fe/query id to where the detail entry whose record is not journaled yet
	// lies (its segment must stay). A carry copies the detail's JSON from there as it is: at
	// thousands of queries/s, encoding details again each time was a fifth of the collector's
	// CPU, and keeping their JSON in memory meant a copy of each waiting detail on the heap
	// (a backlog of fetches grew the heap into the GC's limit).
	openDetails map[string]journalLoc
	synced      int64 // the last sequence number known to be durable
	// outstanding are the sequence numbers of records not yet uploaded (the writer acks them).
	outstanding map[int64]struct{}
	waiting     []func()   // run, in append order, after the next fsync
	syncMu      sync.Mutex // held by syncNow, so that callbacks run in append order
	retired     []*os.File // segments closed by a rotation, written but not yet fsynced
	newFile     bool       // a segment was created since the last fsync of the directory
	syncErr     error
	line        bytes.Buffer // reused to build a record line's header
	head        []byte       // reused to build a detail line after its crc (j.mu)
	readers     map[int64]*os.File
	hosts       sync.Map // FE host -> its JSON string (hostJSON), read without j.mu
	hostCount   atomic.Int32
	spares      []string // segment files done with, to be written over (journalSpareSegments)
	// recycling are segments done with on their way to becoming spares: syncNow makes their
	// old lines unreadable, durably, before it names them spares.
	recycling []pendingSpare
	spareMax  int   // journalSpareSegments when recycling, else 0
	segMax    int64 // segment size at which rotateIfFull starts a new one
	wake      chan struct{}
	stop      chan struct{}
	stopped   chan struct{}
	onSync    func(time.Duration) // metrics hook, called without the lock
	onCarry   func(details int)   // metrics hook, called with j.mu held
}

// journalSyncEvery is the longest an append waits for its fsync: a SIGKILL loses at most the
// entries of this window (their queries are polled again if the FE still has them).
const journalSyncEvery = 100 * time.Millisecond

// fsyncFile makes a segment durable; a variable so that tests can play a slow disk.
var fsyncFile = (*os.File).Sync

// defaultJournalSegmentBytes is Config.JournalSegmentBytes' default (--journal-segment-bytes).
const defaultJournalSegmentBytes = 64 << 20

// journalSegmentBytes is the size at which a new segment is started, so that uploaded ones can
// be deleted while the collector runs, when journalOptions does not say.
var journalSegmentBytes int64 = defaultJournalSegmentBytes // a variable for tests

// journalOptions are the journal's settings from Config.
type journalOptions struct {
	recycle      bool  // keep segments done with to be written over (else delete them)
	segmentBytes int64 // start a new segment past this size; 0: journalSegmentBytes
}

// journalHoldBytes is how much of the journal (closed segments) may be kept for details still
// waiting for their profiles before the oldest segment's are appended again at the end so that it
// can go. Carrying a detail costs a copy of it; at thousands of queries/s a segment fills in a
// fraction of a second, and carrying as soon as a segment's records were uploaded copied each
// detail several times (dozens while fetches lagged). Holding a few segments first lets nearly
// every fetch finish in place; the bound keeps a fetch that never ends (an FE gone for good) from
// holding the disk.
var journalHoldBytes int64 = 4 * defaultJournalSegmentBytes // a variable for tests

// journalSpareSegments is how many segments done with are kept to be written over when the
// journal recycles them: two cover the
// usual turnover (one segment being uploaded while the next fills) and hold two segments' worth
// of --state-dir beyond the segments in use (128 MiB at the default segment size).
const journalSpareSegments = 2

// spareSegmentPrefix names spare segment files; they are not *.jsonl, so recovery never reads them.
const spareSegmentPrefix = "spare-"

// recyclingPrefix names segments done with whose lines are not yet known to be unreadable; a
// journal that opens deletes them.
const recyclingPrefix = "recycling-"

// newlineOverwrite overwrites the newline of each line of a segment before it is written over:
// a spare holds no newline, so what is left of its old life after the new lines is, to every
// version of srctl, those before recycling included, the torn end of the segment.
var newlineOverwrite = []byte{'#'}

// journalCRC is CRC-32C (Castagnoli), which amd64 and arm64 compute in hardware.
var journalCRC = crc32.MakeTable(crc32.Castagnoli)

type segmentInfo struct {
	bytes        int64 // the segment's size once closed (0 while it is the open one)
	maxRecordSeq int64
	open         int // details in this segment without a record yet
	// carriedTo is the sequence number up to which this segment's open details were appended
	// again at the end of the journal; the segment may go once that is durable.
	carriedTo int64
	// newlines are the offsets of the newlines ending the lines this run appended to the
	// segment: before the segment is written over, each is overwritten (see makeSpares).
	newlines []int64
	// recovered marks a segment that was on disk when the journal opened: where its lines end
	// is not kept (nor, for one a version before this one recycled, what of an older life it
	// holds), so it is deleted when done with, never recycled.
	recovered bool
}

// pendingSpare is a segment done with, renamed out of the journal (recyclingPrefix), whose lines
// are to be made unreadable before it becomes a spare.
type pendingSpare struct {
	bound    int64 // names the file, as recycling and then as a spare (see retire)
	newlines []int64
}

// journalEntry is one line of the journal: the format appendDetailLocked and appendRecord write
// without reflection and scanJournalLine reads; tests hold both to encoding/json of this type.
type journalEntry struct {
	Seq    int64                    `json:"seq"`
	CRC    uint32                   `json:"crc"`  // CRC-32C of the line after this value, up to its closing brace
	Kind   string                   `json:"kind"` // "detail" or "record"
	FE     string                   `json:"fe"`
	Part   int64                    `json:"part,omitempty"` // records: partition hour, unix seconds
	Detail *QueryDetail             `json:"detail,omitempty"`
	Record *lakehouse.ProfileRecord `json:"record,omitempty"`
}

// journalLoc says where a record is in the journal, so that the writer need not keep it in
// memory: off and n delimit the record's own JSON inside its line (a record line is a header and
// the record exactly as a JSONL sink stores it, so uploads copy bytes instead of re-encoding).
type journalLoc struct {
	seg, off int64
	n        int32
	part     int64 // the record's partition hour, unix seconds
}

// recordKey precedes a record's JSON in its line.
var recordKey = []byte(`,"record":`)

// detailKey precedes a detail's JSON in its line.
var detailKey = []byte(`,"detail":`)

// journalPos is the checkpoint's reference into the journal: every record with a sequence number
// at or below Through is in the sink.
type journalPos struct {
	ID      string `json:"id"`
	Through int64  `json:"through"`
}

// recovered is what a journal held when it was opened.
type recovered struct {
	// details are polled entries whose record is not in the journal: fetch their profiles.
	details []recoveredDetail
	// records are journaled records above the uploaded position, in sequence order.
	records []recoveredRecord
	// ids are every query id in the journal, per FE, so that a re-poll does not collect them again.
	ids map[string][]string
}

type recoveredDetail struct {
	fe     string
	detail QueryDetail
}

type recoveredRecord struct {
	fe        string
	queryID   string
	eventTime int64
	seq       int64
	loc       journalLoc
}

const journalIDFile = "id"

// openJournal opens (or creates) the journal in dir and reads what it holds. Records at or below
// the furthest of the positions that name this journal count as uploaded: the local checkpoint
// can be ahead of a committed one (spilled records), a commit ahead of the local one (a crash
// right after it).
//
// Without opts.recycle, segments done with are deleted, and so are spares a run with it left.
func openJournal(dir string, opts journalOptions, positions ...*journalPos) (*journal, *recovered, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("creating the journal directory under --state-dir: %w", err)
	}
	j := &journal{dir: dir, segs: map[int64]*segmentInfo{}, openDetails: map[string]journalLoc{},
		outstanding: map[int64]struct{}{}, readers: map[int64]*os.File{}, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	if opts.recycle {
		j.spareMax = journalSpareSegments
	}
	j.segMax = cmp.Or(opts.segmentBytes, journalSegmentBytes)
	idb, err := os.ReadFile(filepath.Join(dir, journalIDFile))
	switch {
	case err == nil && len(bytes.TrimSpace(idb)) > 0:
		j.id = string(bytes.TrimSpace(idb))
	case err == nil || errors.Is(err, fs.ErrNotExist):
		var b [12]byte
		rand.Read(b[:])
		j.id = hex.EncodeToString(b[:])
		if err := writeFileSync(filepath.Join(dir, journalIDFile), []byte(j.id+"\n")); err != nil {
			return nil, nil, fmt.Errorf("naming the journal: %w", err)
		}
	default:
		return nil, nil, fmt.Errorf("reading the journal's id: %w", err)
	}
	through := int64(0)
	for _, pos := range positions {
		if pos != nil && pos.ID == j.id {
			through = max(through, pos.Through)
		}
	}
	rec, err := j.recover(through)
	if err != nil {
		return nil, nil, err
	}
	// Sequence numbers never go back, even when no segment holds an entry any more (an idle
	// collector restarted twice: its first restart's segment stays empty while the one before is
	// uploaded and deleted). A number given out again would be at or below a checkpoint that
	// names this journal, and its record taken for uploaded by the next recovery: lost.
	j.seq = max(j.seq, through)
	if err := j.findSpares(); err != nil {
		return nil, nil, err
	}
	if err := j.startSegment(); err != nil {
		return nil, nil, err
	}
	go j.syncLoop()
	return j, rec, nil
}

// spareBound is the number a spare file is named by (see retire).
func spareBound(name string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(filepath.Base(name), spareSegmentPrefix), 10, 64)
	return n, err == nil
}

// findSpares takes up the spare segments a previous run left, up to spareMax, and deletes the
// others.
func (j *journal) findSpares() error {
	unfinished, err := filepath.Glob(filepath.Join(j.dir, recyclingPrefix+"*"))
	if err != nil {
		return fmt.Errorf("listing journal segments being recycled: %w", err)
	}
	for _, n := range unfinished { // a crash came before their lines were made unreadable
		os.Remove(n)
	}
	names, err := filepath.Glob(filepath.Join(j.dir, spareSegmentPrefix+"*"))
	if err != nil {
		return fmt.Errorf("listing spare journal segments: %w", err)
	}
	for _, n := range names {
		if len(j.spares) < j.spareMax {
			j.spares = append(j.spares, n)
		} else {
			os.Remove(n)
		}
	}
	return nil
}

func writeFileSync(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// segments lists the segment files' first sequence numbers, ascending.
func (j *journal) segments() ([]int64, error) {
	names, err := filepath.Glob(filepath.Join(j.dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, n := range names {
		first, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(n), ".jsonl"), 10, 64)
		if err == nil {
			out = append(out, first)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (j *journal) segName(first int64) string {
	return filepath.Join(j.dir, fmt.Sprintf("%020d.jsonl", first))
}

// boundName names a segment done with, on its way to be a spare (recyclingPrefix) or one
// (spareSegmentPrefix), by the bound on its old sequence numbers (see retire).
func (j *journal) boundName(prefix string, bound int64) string {
	return filepath.Join(j.dir, fmt.Sprintf("%s%020d", prefix, bound))
}

// recover reads every segment. Details without a record come back for fetching, records above
// through for uploading.
func (j *journal) recover(through int64) (*recovered, error) {
	segs, err := j.segments()
	if err != nil {
		return nil, err
	}
	out := &recovered{ids: map[string][]string{}}
	details := map[string]recoveredDetail{}
	var order []string
	var dd detailDecoder // its reader scans the lines; it decodes their details
	var long []byte      // a line longer than the read buffer is assembled here
	for _, first := range segs {
		info := &segmentInfo{recovered: true}
		j.segs[first] = info
		j.seq = max(j.seq, first-1) // an empty segment still says which numbers were given out
		f, err := os.Open(j.segName(first))
		if err != nil {
			return nil, fmt.Errorf("reading journal segment: %w", err)
		}
		end, err := lastNewlineEnd(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("reading journal segment: %w", err)
		}
		r := bufio.NewReaderSize(io.NewSectionReader(f, 0, end), 1<<20)
		off := int64(0)
		for {
			line, err := readLine(r, &long)
			if len(line) == 0 || (err != nil && !errors.Is(err, io.EOF)) {
				break
			}
			if line[len(line)-1] != '\n' {
				break // a torn last line: never acknowledged
			}
			e, ok := scanJournalLine(&dd, line)
			if ok && e.seq < first {
				break // a recycled segment's previous life: nothing of this one follows
			}
			if !ok || !lineCRCMatches(line) {
				off += int64(len(line))
				continue // damaged line: skip it, keep the rest
			}
			j.seq = max(j.seq, e.seq)
			switch {
			case e.kind == "detail" && e.detail != nil:
				key := e.fe + "/" + e.detail.QueryID
				if _, ok := details[key]; !ok {
					order = append(order, key)
				}
				details[key] = recoveredDetail{fe: e.fe, detail: *e.detail}
				if at, ok := j.openDetails[key]; ok {
					j.segs[at.seg].open-- // carried forward: the later copy is the one that counts
				}
				j.openDetails[key] = journalLoc{seg: first, off: off + int64(e.detailAt), n: int32(e.detailN)}
				info.open++
				out.ids[e.fe] = append(out.ids[e.fe], e.detail.QueryID)
			case e.kind == "record" && e.record:
				key := e.fe + "/" + e.queryID
				if at, ok := j.openDetails[key]; ok {
					j.segs[at.seg].open--
					delete(j.openDetails, key)
				}
				delete(details, key)
				info.maxRecordSeq = max(info.maxRecordSeq, e.seq)
				out.ids[e.fe] = append(out.ids[e.fe], e.queryID)
				if e.seq > through {
					j.outstanding[e.seq] = struct{}{}
					out.records = append(out.records, recoveredRecord{fe: e.fe, queryID: e.queryID,
						eventTime: e.eventTime, seq: e.seq,
						loc: journalLoc{seg: first, off: off + int64(e.recordAt), n: int32(e.recordN), part: e.part}})
				}
			}
			off += int64(len(line))
		}
		f.Close()
		info.bytes = off
	}
	for _, k := range order {
		if d, ok := details[k]; ok {
			out.details = append(out.details, d)
		}
	}
	return out, nil
}

// lastNewlineEnd is the offset just past the last newline in f (0 when there is none): what
// follows is a line a crash cut short, or what a recycled segment holds of its old life, which
// recovery skips without reading it into memory.
func lastNewlineEnd(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 256<<10)
	for end := st.Size(); end > 0; {
		n := min(end, int64(len(buf)))
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}

func (j *journal) startSegment() error {
	first := j.seq + 1
	f, err := j.reuseSpare(first)
	if f == nil && err == nil {
		// A file of this name can exist only without an entry of its own (nothing numbered
		// first or above was given out): empty, or a recycled segment's old life. Appended
		// after that, new entries would follow the stale ones that recovery stops at.
		f, err = os.OpenFile(j.segName(first), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	}
	if err != nil {
		return fmt.Errorf("opening a journal segment: %w", err)
	}
	if j.f != nil {
		if err := j.w.flush(); err != nil {
			f.Close()
			return err
		}
		j.retired = append(j.retired, j.f) // the next syncNow makes it durable and closes it
		if info, ok := j.segs[j.segFirst]; ok {
			info.bytes = j.segBytes
		}
	}
	j.f, j.segFirst, j.segBytes = f, first, 0
	j.w.reset(f)
	if _, ok := j.segs[first]; !ok {
		j.segs[first] = &segmentInfo{}
	}
	j.newFile = true // its directory entry is made durable by the next syncNow
	return nil
}

// reuseSpare renames a spare segment to the segment first and opens it to be written from its
// start; nil, nil when there is no spare (or it went missing). Its directory entry is made
// durable with the next fsync, like a new file's.
func (j *journal) reuseSpare(first int64) (*os.File, error) {
	for len(j.spares) > 0 {
		spare := j.spares[len(j.spares)-1]
		j.spares = j.spares[:len(j.spares)-1]
		if bound, ok := spareBound(spare); !ok || bound > first {
			// Old lines numbered at or above first would pass for new ones (a journal started
			// again beside an older one's spares): not written over.
			os.Remove(spare)
			continue
		}
		if err := os.Rename(spare, j.segName(first)); err != nil {
			continue // removed by hand: try the next, or make a new file
		}
		return os.OpenFile(j.segName(first), os.O_WRONLY, 0o644)
	}
	return nil, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// appendDetail journals a polled terminal entry; then runs after it is durable.
func (j *journal) appendDetail(fe string, d *QueryDetail, then func()) error {
	raw, err := json.Marshal(d) // before the lock, which every fetcher and poller takes
	if err != nil {
		return fmt.Errorf("encoding a journal detail: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.rotateIfFull(); err != nil {
		return err
	}
	at, err := j.appendDetailLocked(fe, raw)
	if err != nil {
		return err
	}
	key := fe + "/" + d.QueryID
	if _, ok := j.openDetails[key]; !ok {
		j.openDetails[key] = at
		j.segs[j.segFirst].open++
	}
	j.later(then)
	return nil
}

// appendRecord journals a complete record; then gets its sequence number and location after it
// is durable.
func (j *journal) appendRecord(fe string, rec *lakehouse.ProfileRecord, then func(seq int64, loc journalLoc)) error {
	// The record is encoded before the lock is taken: escaping a profile (tens of KB) under it
	// serialised every fetcher, and an allocation under a lock can stall it for a GC assist.
	e := getRecordEncoder()
	defer e.release()
	body, err := e.encode(rec)
	if err != nil {
		return err
	}
	part := rec.PartitionTime().UTC().Truncate(time.Hour).Unix()
	key := fe + "/" + rec.QueryID // the detail this record closes
	// The header after the crc, and the checksum over it, the record and the closing brace,
	// before the lock too (a few microseconds for tens of KB).
	e.head = append(e.head[:0], `,"kind":"record","fe":`...)
	e.head = append(e.head, j.hostJSON(fe)...)
	e.head = append(e.head, `,"part":`...)
	e.head = strconv.AppendInt(e.head, part, 10)
	e.head = append(e.head, recordKey...)
	crc := crc32.Update(crc32.Checksum(e.head, journalCRC), journalCRC, body)
	crc = crc32.Update(crc, journalCRC, recordEnd[:1])
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.rotateIfFull(); err != nil {
		return err
	}
	seq := j.seq + 1
	j.line.Reset()
	j.line.Write(appendLinePrefix(j.line.AvailableBuffer(), seq, crc))
	j.line.Write(e.head)
	start := j.line.Len()
	off := j.segBytes
	if err := j.w.write(j.line.Bytes(), body, recordEnd); err != nil {
		return err
	}
	j.lineAppended(start + len(body) + len(recordEnd))
	j.segBytes += int64(start + len(body) + len(recordEnd))
	j.seq = seq
	loc := journalLoc{seg: j.segFirst, off: off + int64(start), n: int32(len(body)), part: part}
	if at, ok := j.openDetails[key]; ok {
		j.segs[at.seg].open--
		delete(j.openDetails, key)
	}
	j.segs[j.segFirst].maxRecordSeq = seq
	j.outstanding[seq] = struct{}{}
	j.later(func() { then(seq, loc) })
	return nil
}

// recordEnd closes a record line.
var recordEnd = []byte("}\n")

// recordEncoder encodes one record at a time; appenders take one with getRecordEncoder.
type recordEncoder struct {
	out  []byte // the record's JSON
	head []byte // its line's header after the "crc" value
}

// recordEncoders keeps idle encoders for the fetch workers. Not a sync.Pool: that is emptied
// within two garbage collections, which come several times a second at thousands of records per
// second, and every new encoder grew its buffer again while escaping (a fifth of the escaping's
// time). Sized for every fetcher of four FEs at the default --max-fetches (16 each): a fetcher
// holds its encoder while it waits for the journal's lock and writes, and with 16 kept, three
// FEs' 48 fetchers made a fresh ~50 KB encoder for one record in five (44% of the collector's
// allocated bytes at 3 x 2,000/s). What it keeps is bounded: at most 64 encoders, none holding
// more than keptEncoderBytes, all together at most maxIdleEncoderBytes.
var recordEncoders = make(chan *recordEncoder, 64)

// keptEncoderBytes is the largest buffer an idle encoder keeps: a record with a larger profile
// (tens of KB is usual) gets a fresh encoder, which the GC takes back.
const keptEncoderBytes = 512 << 10

// maxIdleEncoderBytes bounds the buffers idle encoders hold together; idleEncoderBytes is what
// they hold now.
const maxIdleEncoderBytes = 16 << 20

var idleEncoderBytes atomic.Int64

func getRecordEncoder() *recordEncoder {
	select {
	case e := <-recordEncoders:
		idleEncoderBytes.Add(-int64(cap(e.out)))
		return e
	default:
	}
	return &recordEncoder{}
}

// release gives e back, unless a large record grew its buffer (it must not stay pinned) or
// enough encoders, or bytes, are idle.
func (e *recordEncoder) release() {
	n := int64(cap(e.out))
	if n > keptEncoderBytes {
		return
	}
	if idleEncoderBytes.Add(n) > maxIdleEncoderBytes {
		idleEncoderBytes.Add(-n)
		return
	}
	select {
	case recordEncoders <- e:
	default:
		idleEncoderBytes.Add(-n)
	}
}

// encode returns rec's JSON (valid until e's next use), exactly as a json.Encoder with HTML
// escaping off writes it (ProfileRecord.AppendJSON, without reflection; its profile text is
// escaped eight bytes at a time), so that the JSONL sink can copy it as it is.
func (e *recordEncoder) encode(rec *lakehouse.ProfileRecord) ([]byte, error) {
	// Room for the text as escaped in the usual case (a newline per line of a profile, a few
	// quotes) and the rest of the record: the escaping appends in place instead of growing a copy.
	// A quarter more than that when it grows: profiles of one workload differ by a few KB, and an
	// encoder sized for exactly the last one grew again for a third of the records (a third of the
	// collector's allocated bytes).
	if need := len(rec.ProfileText) + len(rec.ProfileText)/8 + len(rec.SQLText) + 2048; cap(e.out) < need {
		e.out = make([]byte, 0, need+need/4)
	}
	out, err := rec.AppendJSON(e.out[:0])
	if err != nil {
		return nil, fmt.Errorf("encoding a journal record: %w", err)
	}
	e.out = out
	return out, nil
}

// afterSync runs fn once everything appended so far is durable.
func (j *journal) afterSync(fn func()) {
	j.mu.Lock()
	j.later(fn)
	j.mu.Unlock()
}

// later queues fn for the next fsync and wakes the syncer; j.mu is held.
func (j *journal) later(fn func()) {
	if fn != nil {
		j.waiting = append(j.waiting, fn)
	}
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// lineAppended notes where the newline of a line of n bytes appended at the open segment's end
// (before it grows by the line) lies, for a recycling journal to overwrite once the segment is
// done with; j.mu is held.
func (j *journal) lineAppended(n int) {
	if j.spareMax > 0 {
		info := j.segs[j.segFirst]
		info.newlines = append(info.newlines, j.segBytes+int64(n)-1)
	}
}

// rotateIfFull starts a new segment when the open one is full. It runs before a sequence
// number is given out: a segment is named by the first one it holds.
func (j *journal) rotateIfFull() error {
	if j.segBytes >= j.segMax {
		return j.startSegment()
	}
	return nil
}

// appendDetailLocked appends a detail line around the detail's JSON, with the next sequence
// number: the bytes json.Marshal(journalEntry{...}) would write, built without reflection
// because details are appended again when carried forward. It returns where the detail's JSON
// lies. j.mu is held.
func (j *journal) appendDetailLocked(fe string, detailJSON []byte) (journalLoc, error) {
	j.head = append(j.head[:0], `,"kind":"detail","fe":`...)
	j.head = append(j.head, j.hostJSON(fe)...)
	j.head = append(j.head, detailKey...)
	j.head = append(j.head, detailJSON...)
	j.head = append(j.head, '}')
	j.line.Reset()
	j.line.Write(appendLinePrefix(j.line.AvailableBuffer(), j.seq+1, crc32.Checksum(j.head, journalCRC)))
	at := journalLoc{seg: j.segFirst, off: j.segBytes + int64(j.line.Len()+len(j.head)-1-len(detailJSON)), n: int32(len(detailJSON))}
	j.line.Write(j.head)
	j.line.WriteByte('\n')
	if err := j.w.write(j.line.Bytes()); err != nil {
		return journalLoc{}, err
	}
	j.lineAppended(j.line.Len())
	j.segBytes += int64(j.line.Len())
	j.seq++
	return at, nil
}

// hostJSON is fe as a JSON string (encoding/json's bytes), encoded once per FE; safe without j.mu
// (appendRecord takes it before the lock).
func (j *journal) hostJSON(fe string) []byte {
	if b, ok := j.hosts.Load(fe); ok {
		return b.([]byte)
	}
	b, _ := json.Marshal(fe)       // a string always encodes
	if j.hostCount.Add(1) > 1024 { // FEs come from configuration or discovery: a handful
		j.hosts.Clear()
		j.hostCount.Store(1)
	}
	j.hosts.Store(fe, b)
	return b
}

// Each journal line is {"seq":N,"crc":C,...} where C is the CRC-32C of what follows C up to and
// including the line's closing brace (its newline excluded). The sequence number is given out
// under j.mu, the checksum can be taken before.

// appendLinePrefix appends a line's start up to its crc value.
func appendLinePrefix(b []byte, seq int64, crc uint32) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"crc":`...)
	return strconv.AppendUint(b, uint64(crc), 10)
}

// lineCRCMatches checks a journal line's CRC; a line without one (written before the journal
// had them) passes, as it did then: recycled segments, whose stale bytes a crash could splice to
// a new line, only ever hold lines with one in front.
func lineCRCMatches(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte(`{"seq":`))
	if !ok {
		return true
	}
	rest, ok = bytes.CutPrefix(rest[digits(rest):], []byte(`,"crc":`))
	if !ok {
		return true
	}
	n := digits(rest)
	want, err := strconv.ParseUint(string(rest[:n]), 10, 32)
	if err != nil {
		return false
	}
	body := bytes.TrimSuffix(rest[n:], []byte("\n"))
	return crc32.Checksum(body, journalCRC) == uint32(want)
}

// digits counts the decimal digits b starts with.
func digits(b []byte) int {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// syncLoop makes appends durable every journalSyncEvery (when there are any) and then runs
// their callbacks in order. A failed fsync keeps the callbacks for the next try: nothing is
// acknowledged that is not on disk.
func (j *journal) syncLoop() {
	defer close(j.stopped)
	for {
		select {
		case <-j.stop:
			j.syncNow()
			return
		case <-j.wake:
		}
		select {
		case <-j.stop:
			j.syncNow()
			return
		case <-time.After(journalSyncEvery):
		}
		j.syncNow()
	}
}

// The fsync runs without j.mu: on a busy disk it can take seconds, and every fetcher appends
// its record under j.mu, so holding it there stopped all profile fetches for as long (profiles
// aged out of the FE meanwhile). Appends made during the fsync wait for the next one. syncMu
// keeps two syncs (the loop's and the collector's last one) from running callbacks out of order.
func (j *journal) syncNow() {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	start := time.Now()
	j.mu.Lock()
	fns, seq, f, retired, newFile := j.waiting, j.seq, j.f, j.retired, j.newFile
	j.waiting, j.retired, j.newFile = nil, nil, false
	recycling := slices.Clone(j.recycling) // only syncNow takes them off the list (syncMu)
	err := j.w.flush()
	j.mu.Unlock()
	// After the appends are acknowledged: overwriting a segment's newlines (a write a line, and an
	// fsync) is not theirs to wait for, nor the sync-latency metric's to count.
	defer j.makeSpares(recycling)
	// Segments closed by a rotation first: their entries precede the open segment's.
	for len(retired) > 0 && err == nil {
		if err = fsyncFile(retired[0]); err == nil {
			retired[0].Close()
			retired = retired[1:]
		}
	}
	if err == nil {
		err = fsyncFile(f)
	}
	if err == nil && newFile {
		syncDir(j.dir)
	}
	j.mu.Lock()
	j.syncErr = err
	if err == nil {
		j.synced = max(j.synced, seq)
	} else { // kept, in order, for the next try
		j.waiting = append(fns, j.waiting...)
		j.retired = append(retired, j.retired...)
		j.newFile = j.newFile || newFile
	}
	j.mu.Unlock()
	if err != nil {
		// Retry soon; the entries stay unacknowledged meanwhile.
		time.AfterFunc(time.Second, func() { j.later(nil) })
		return
	}
	if j.onSync != nil && len(fns) > 0 {
		j.onSync(time.Since(start))
	}
	for _, fn := range fns {
		fn()
	}
}

// makeSpares turns segments done with into spares; syncMu is held, j.mu is not (an fsync each).
// Before a segment is written over, the newline of each of its lines is overwritten, durably: a
// spare holds no newline. Written over from its start, the segment's new lines are followed by
// what is left of the old ones as one line without a newline to the end of the file, which
// every version of srctl takes for a line a crash cut short and skips: versions from before
// recycling (2026-12-06), which read a segment to its end, included. So is a new line a crash
// cut short, which old bytes continue to the end of the file, not to an old line's newline
// (spliced to that, it could pass for an entry with a version that does not check CRCs). One
// write of a byte a line (two lines a record) instead of the file's every page: the pages stay
// the file's, which is what recycling is for.
func (j *journal) makeSpares(pending []pendingSpare) {
	if len(pending) == 0 {
		return
	}
	var ready []string
	for _, p := range pending {
		pending, spare := j.boundName(recyclingPrefix, p.bound), j.boundName(spareSegmentPrefix, p.bound)
		if err := overwriteAt(pending, p.newlines, newlineOverwrite); err != nil || os.Rename(pending, spare) != nil {
			os.Remove(pending) // a fresh segment costs more, but is safe
			continue
		}
		ready = append(ready, spare)
	}
	j.mu.Lock()
	j.recycling = j.recycling[len(pending):]
	j.spares = append(j.spares, ready...)
	j.mu.Unlock()
}

// overwriteAt writes b at each offset of the file at path and makes that durable.
func overwriteAt(path string, offsets []int64, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	for _, off := range offsets {
		if _, err := f.WriteAt(b, off); err != nil {
			f.Close()
			return err
		}
	}
	if err := fsyncFile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// close makes what was appended durable, runs the callbacks and closes the files.
func (j *journal) close() error {
	close(j.stop)
	<-j.stopped
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, r := range j.readers {
		r.Close()
	}
	j.readers = nil
	for _, r := range j.retired { // only after a failed fsync
		r.Close()
	}
	err := j.syncErr
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readInto appends the JSON of the record at loc to buf, as a JSONL sink stores it (no newline).
func (j *journal) readInto(buf *bytes.Buffer, loc journalLoc) error {
	j.mu.Lock()
	r, err := j.readerLocked(loc.seg)
	j.mu.Unlock()
	if err != nil {
		return err
	}
	buf.Grow(int(loc.n))
	b := buf.AvailableBuffer()[:loc.n]
	if err := readObject(r, b, loc); err != nil {
		return err
	}
	buf.Write(b) // b is buf's own spare capacity: this moves the length (and copies in place)
	return nil
}

// readerLocked opens a segment for reading (once); j.mu is held.
func (j *journal) readerLocked(seg int64) (*os.File, error) {
	if r, ok := j.readers[seg]; ok {
		return r, nil
	}
	r, err := os.Open(j.segName(seg))
	if err != nil {
		return nil, fmt.Errorf("reading a journaled entry: %w", err)
	}
	j.readers[seg] = r
	return r, nil
}

// readLocked appends the JSON object at loc (a closed segment's) to dst; j.mu is held.
func (j *journal) readLocked(dst []byte, loc journalLoc) ([]byte, error) {
	r, err := j.readerLocked(loc.seg)
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, int(loc.n))
	if err := readObject(r, dst[len(dst):len(dst)+int(loc.n)], loc); err != nil {
		return dst, err
	}
	return dst[:len(dst)+int(loc.n)], nil
}

// readObject fills b with the JSON object at loc. A full validation would cost a pass over every
// profile; a record's or a detail's JSON is an object, and a damaged or misplaced read rarely
// both starts and ends like one.
func readObject(r *os.File, b []byte, loc journalLoc) error {
	if _, err := r.ReadAt(b, loc.off); err != nil {
		return fmt.Errorf("reading a journaled entry: %w", err)
	}
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return fmt.Errorf("journal segment %d at %d holds no object (damaged?)", loc.seg, loc.off)
	}
	return nil
}

// read returns the record at loc, decoded.
func (j *journal) read(loc journalLoc) (*lakehouse.ProfileRecord, error) {
	var buf bytes.Buffer
	if err := j.readInto(&buf, loc); err != nil {
		return nil, err
	}
	var rec lakehouse.ProfileRecord
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		return nil, fmt.Errorf("journal segment %d at %d: %w", loc.seg, loc.off, err)
	}
	return &rec, nil
}

// uploaded marks records as in the sink (or in a spill file) and deletes the segments no longer
// needed, oldest first and only as a prefix: a record resolves a detail in an earlier segment,
// so a segment holding records must outlive every segment before it, or a restart would take
// those details for fetches never done. An old segment held only by details still waiting for
// their profile has them appended again at the end of the journal, and goes once that copy is
// durable: a fetch that never ends (an FE gone for good) does not keep the journal growing.
func (j *journal) uploaded(seqs []int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, s := range seqs {
		delete(j.outstanding, s)
	}
	through := j.throughLocked()
	var firsts []int64
	var held int64
	for first, info := range j.segs {
		firsts = append(firsts, first)
		held += info.bytes
	}
	slices.Sort(firsts)
	for i, first := range firsts {
		info := j.segs[first]
		if first == j.segFirst || info.maxRecordSeq > through {
			return
		}
		if info.open > 0 {
			if held < journalHoldBytes {
				return // its fetches may well finish before the bound is reached
			}
			if err := j.carryForward(first); err != nil {
				return
			}
			info.carriedTo = j.seq
			j.later(func() { j.uploaded(nil) }) // try again once the copies are durable
			return
		}
		if info.carriedTo > j.synced {
			return
		}
		if r, ok := j.readers[first]; ok {
			r.Close()
			delete(j.readers, first)
		}
		// Every entry of the segment is numbered below the next segment's first (it is not the
		// open one, so there is a next).
		if err := j.retire(first, firsts[i+1], info); err != nil {
			return
		}
		held -= info.bytes
		delete(j.segs, first)
	}
}

// retire sets a segment done with on its way to be a spare (syncNow makes its lines unreadable
// first), or deletes it when there are enough spares; j.mu is held. bound is above every
// sequence number in the segment: the spare is named by it, and written over only as a segment
// whose first number is at least bound, so that recovery can tell all of its old lines by their
// numbers. (The rename need not be durable: a crash that undoes it leaves an uploaded segment,
// which recovery reads as such, as it would one whose deletion was undone.)
func (j *journal) retire(first, bound int64, info *segmentInfo) error {
	if !info.recovered && len(j.spares)+len(j.recycling) < j.spareMax {
		if err := os.Rename(j.segName(first), j.boundName(recyclingPrefix, bound)); err == nil {
			j.recycling = append(j.recycling, pendingSpare{bound: bound, newlines: info.newlines})
			j.later(nil) // an idle journal syncs too, so the spare is ready for the next segment
			return nil
		}
	}
	if err := os.Remove(j.segName(first)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// carryForward appends again the open details of segment first; j.mu is held.
func (j *journal) carryForward(first int64) error {
	var keys []string
	for key, at := range j.openDetails {
		if at.seg == first {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	var raw []byte
	for _, key := range keys {
		if err := j.rotateIfFull(); err != nil {
			return err
		}
		var err error
		if raw, err = j.readLocked(raw[:0], j.openDetails[key]); err != nil {
			return err
		}
		fe, _, _ := strings.Cut(key, "/")
		at, err := j.appendDetailLocked(fe, raw)
		if err != nil {
			return err
		}
		j.segs[first].open--
		j.openDetails[key] = at
		j.segs[j.segFirst].open++
	}
	if j.onCarry != nil {
		j.onCarry(len(keys))
	}
	return nil
}

// through is the position to checkpoint: every record at or below it is uploaded.
func (j *journal) through() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.throughLocked()
}

// throughAfter is through as it will be once seqs are uploaded too (for a commit that carries
// its own checkpoint).
func (j *journal) throughAfter(seqs []int64) int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	skip := make(map[int64]bool, len(seqs))
	for _, s := range seqs {
		skip[s] = true
	}
	lowest := j.seq + 1
	for s := range j.outstanding {
		if !skip[s] && s < lowest {
			lowest = s
		}
	}
	return lowest - 1
}

func (j *journal) throughLocked() int64 {
	lowest := j.seq + 1
	for s := range j.outstanding {
		lowest = min(lowest, s)
	}
	return lowest - 1
}

// diskBytes is the size of the journal's segments and spares, for the metrics.
func (j *journal) diskBytes() int64 {
	segs, _ := j.segments()
	names, _ := filepath.Glob(filepath.Join(j.dir, spareSegmentPrefix+"*"))
	recycling, _ := filepath.Glob(filepath.Join(j.dir, recyclingPrefix+"*"))
	names = append(names, recycling...)
	for _, first := range segs {
		names = append(names, j.segName(first))
	}
	var n int64
	for _, name := range names {
		if st, err := os.Stat(name); err == nil {
			n += st.Size()
		}
	}
	return n
}
