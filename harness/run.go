package harness

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Session is one connection that runs a side's SQL, with the id the server gave it, so that a
// run that overstays its timeout can be killed from another connection.
type Session struct {
	conn   *sql.Conn
	connID int64
	ctl    *sql.Conn // control connection for KILL QUERY, shared by the sessions of one comparison
	ctlMu  *sync.Mutex
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

// Exec runs session statements (SET ...), failing on the first error.
func (s *Session) Exec(ctx context.Context, stmts ...string) error {
	for _, st := range stmts {
		if _, err := s.conn.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("%s: %w", clip(st), err)
		}
	}
	return nil
}

// RowFunc receives each row of the final statement's result as raw column bytes (nil for NULL),
// valid only during the call.
type RowFunc func(cols []sql.RawBytes) error

// Run executes sql (one or more statements; the last one's rows are read) and returns the
// elapsed time from sending the first statement to reading the last row. onRow (optional) sees
// the rows; without it they are drained. After timeout (0: none) the statement is killed with
// KILL QUERY from the control connection and the error wraps ErrTimeout: cancelling the
// context instead would make the driver drop the connection while the server went on running
// the query.
func (s *Session) Run(ctx context.Context, sqlText string, timeout time.Duration, onRow RowFunc) (time.Duration, []*sql.ColumnType, error) {
	stmts := Statements(sqlText)
	if len(stmts) == 0 {
		return 0, nil, fmt.Errorf("no statement to run")
	}
	var killed sync.WaitGroup
	var timedOut bool
	var mu sync.Mutex
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
		mu.Lock()
		timedOut = ctx.Err() == nil
		mu.Unlock()
		s.kill()
	})

	start := time.Now()
	for _, st := range stmts[:len(stmts)-1] {
		if _, err := s.conn.ExecContext(context.WithoutCancel(ctx), st); err != nil {
			return time.Since(start), nil, s.runErr(err, &mu, &timedOut, ctx)
		}
	}
	rows, err := s.conn.QueryContext(context.WithoutCancel(ctx), stmts[len(stmts)-1])
	if err != nil {
		return time.Since(start), nil, s.runErr(err, &mu, &timedOut, ctx)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return time.Since(start), nil, err
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
		if err := rows.Scan(ptrs...); err != nil {
			return time.Since(start), types, err
		}
		if err := onRow(cols); err != nil {
			return time.Since(start), types, err
		}
	}
	elapsed := time.Since(start)
	err = rows.Err()
	mu.Lock()
	late := timedOut
	mu.Unlock()
	if err != nil || late {
		// A killed SLEEP() on MariaDB ends normally: the kill, not the error, decides.
		return elapsed, types, s.runErr(cmpOr(err, errors.New("the query ended after the kill")), &mu, &timedOut, ctx)
	}
	return elapsed, types, nil
}

func (s *Session) runErr(err error, mu *sync.Mutex, timedOut *bool, ctx context.Context) error {
	mu.Lock()
	defer mu.Unlock()
	switch {
	case *timedOut:
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	case ctx.Err() != nil:
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

func cmpOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// kill sends KILL QUERY for this session's connection from the control connection.
func (s *Session) kill() {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = s.ctl.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", s.connID))
}
