package harness

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/srctl/srctl/analyze/fingerprint"
)

// Session is one connection that runs a side's SQL, with the id the server gave it, so that a
// run that overstays its timeout can be killed from another connection.
type Session struct {
	conn   *sql.Conn
	connID int64
	ctl    *sql.Conn // control connection for KILL QUERY, shared by the sessions of one comparison
	ctlMu  *sync.Mutex
	// spent, when set, accumulates the time of every Run (nanoseconds): what the server and
	// the network took, against which the harness's own overhead is measured.
	spent *atomic.Int64
}

// ErrTimeout marks a run killed after its timeout.
var ErrTimeout = errors.New("timed out and killed with KILL QUERY")

// OpenSession takes a connection from db and learns its connection id; ctl (with its mutex) is
// the connection KILL QUERY is sent from.
func OpenSession(ctx context.Context, db *sql.DB, ctl *sql.Conn, ctlMu *sync.Mutex) (*Session, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	s := &Session{conn: conn, ctl: ctl, ctlMu: ctlMu}
	if err := conn.QueryRowContext(ctx, "SELECT connection_id()").Scan(&s.connID); err != nil {
		conn.Close()
		return nil, fmt.Errorf("reading the connection id: %w", err)
	}
	return s, nil
}

// Close returns the connection to the pool.
func (s *Session) Close() error { return s.conn.Close() }

// RowFunc receives each row of the final statement's result as raw column bytes (nil for NULL),
// valid only during the call.
type RowFunc func(cols []sql.RawBytes) error

// Run executes sql (one or more statements; the last one's rows are read) and returns the
// elapsed time from sending the first statement to reading the last row. onColumns (optional)
// learns the result's columns before the first row; onRow (optional) sees the rows; without it
// they are drained. After timeout (0: none) the statement is killed with
// KILL QUERY from the control connection and the error wraps ErrTimeout: cancelling the
// context instead would make the driver drop the connection while the server went on running
// the query.
func (s *Session) Run(ctx context.Context, sqlText string, timeout time.Duration, onRow RowFunc, onColumns func([]*sql.ColumnType)) (time.Duration, []*sql.ColumnType, error) {
	stmts := fingerprint.Statements(sqlText)
	if len(stmts) == 0 {
		return 0, nil, fmt.Errorf("no statement to run")
	}
	var killed sync.WaitGroup
	var timedOut atomic.Bool // set before the kill is sent: the run then counts as a timeout
	stop := make(chan struct{})
	defer func() { close(stop); killed.Wait() }()
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	killed.Go(func() {
		select {
		case <-stop:
			return
		case <-timer:
		case <-ctx.Done():
		}
		timedOut.Store(ctx.Err() == nil)
		s.kill()
	})

	start := time.Now()
	if s.spent != nil {
		defer func() { s.spent.Add(int64(time.Since(start))) }()
	}
	for _, st := range stmts[:len(stmts)-1] {
		if _, err := s.conn.ExecContext(context.WithoutCancel(ctx), st); err != nil {
			return time.Since(start), nil, runErr(ctx, err, timedOut.Load())
		}
	}
	rows, err := s.conn.QueryContext(context.WithoutCancel(ctx), stmts[len(stmts)-1])
	if err != nil {
		return time.Since(start), nil, runErr(ctx, err, timedOut.Load())
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return time.Since(start), nil, err
	}
	if onColumns != nil {
		onColumns(types)
	}
	cols := make([]sql.RawBytes, len(types))
	ptrs := make([]any, len(cols))
	for i := range cols {
		ptrs[i] = &cols[i]
	}
	for rows.Next() {
		if onRow == nil {
			continue
		}
		// database/sql appends into a RawBytes: after a NULL (nil) an empty string would stay
		// nil and read as NULL, unless the slice is non-nil before the scan.
		for i := range cols {
			if cols[i] == nil {
				cols[i] = make(sql.RawBytes, 0, 16)
			}
		}
		if err := rows.Scan(ptrs...); err != nil {
			return time.Since(start), types, err
		}
		if err := onRow(cols); err != nil {
			return time.Since(start), types, err
		}
	}
	elapsed := time.Since(start)
	if err := rows.Err(); err != nil || timedOut.Load() {
		// A killed SLEEP() on MariaDB ends normally: the kill, not the error, decides.
		return elapsed, types, runErr(ctx, cmp.Or(err, errors.New("the query ended after the kill")), timedOut.Load())
	}
	return elapsed, types, nil
}

func runErr(ctx context.Context, err error, timedOut bool) error {
	switch {
	case timedOut:
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	case ctx.Err() != nil:
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// kill sends KILL QUERY for this session's connection from the control connection.
func (s *Session) kill() {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = s.ctl.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", s.connID))
}
