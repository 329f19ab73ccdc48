// Package shadowproxy is the engine of `srctl shadow`: a MySQL-protocol proxy that sends every
// command to the primary and gives the client the primary's answer byte for byte, mirrors a
// copy to the shadow cluster asynchronously through a bounded per-connection queue, and logs
// one row per command per target in the shadow-proxy log schema (FORMATS.md section 1) plus
// srctl's keys: the server's error code and SQLSTATE, row counts, order-sensitive and
// order-insensitive result hashes, and the same clock on both sides.
//
// Reading order: proxy.go (configuration, listener, drain, cutover), session.go (one client
// connection: handshake relay, command loop), mirror.go (the shadow side of a connection:
// session replay, statement id remapping, the queue), response.go (following a server's
// answer frame by frame), classify.go and policy.go (what is mirrored), logsink.go (log rows
// to the lake).
package shadowproxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/srctl/srctl/lakehouse"
)

// Config is the proxy's configuration. Zero durations and sizes take the defaults noted.
type Config struct {
	Primary string // host:port of the primary (the client's cluster)
	Shadow  string // host:port of the shadow

	ShadowUser     string
	ShadowPassword string

	// ClientTLS terminates TLS from clients (the MySQL SSL upgrade); nil offers no TLS.
	ClientTLS *tls.Config
	// PrimaryTLS and ShadowTLS open TLS to the backends; nil connects in plain text.
	PrimaryTLS *tls.Config
	ShadowTLS  *tls.Config

	Policy Policy

	// The shadow queues: each connection's copies wait in order for its shadow session, bounded by
	// bytes (payload, text and a fixed overhead per copy), per connection (QueueBytes, 8 MiB; a
	// single larger command still fits an empty queue) and for the whole proxy (TotalQueueBytes,
	// 64 MiB), and by time: a copy that waited longer than QueueMaxWait (60s) is dropped when its
	// turn comes, so a shadow that fell behind catches up. QueueSize, when above 0, also bounds
	// the number of copies per connection (0: bytes and time only).
	QueueSize       int
	QueueBytes      int
	TotalQueueBytes int
	QueueMaxWait    time.Duration
	ShadowTimeout   time.Duration // one command on the shadow, after which its session is reopened (30s)
	DialTimeout     time.Duration // connecting to a backend (5s)
	MaxMirrorBytes  int           // larger commands are not mirrored (16 MiB)
	// ReconnectBackoff is the pause after a failed shadow login before the next attempt (2s).
	ReconnectBackoff time.Duration

	// MaxHandshakes bounds the connections logging in at once (128); more are refused with
	// error 1040 until some finish. HandshakeTimeout bounds one login (10s).
	MaxHandshakes    int
	HandshakeTimeout time.Duration

	// AllowCutover lets SetSource make the shadow the source of answers.
	AllowCutover bool

	Log  *slog.Logger
	Sink RowSink
}

// RowSink receives log rows. Write must not block the caller for long: the proxy calls it on
// the client's path (the primary's row) and on the shadow workers.
type RowSink interface {
	Write(rec *lakehouse.ProxyLogRecord)
}

func (c *Config) withDefaults() Config {
	out := *c
	if out.QueueBytes <= 0 {
		out.QueueBytes = 8 << 20
	}
	if out.TotalQueueBytes <= 0 {
		out.TotalQueueBytes = 64 << 20
	}
	if out.QueueMaxWait <= 0 {
		out.QueueMaxWait = time.Minute
	}
	if out.ShadowTimeout <= 0 {
		out.ShadowTimeout = 30 * time.Second
	}
	if out.DialTimeout <= 0 {
		out.DialTimeout = 5 * time.Second
	}
	if out.MaxMirrorBytes <= 0 {
		out.MaxMirrorBytes = 16 << 20
	}
	if out.ReconnectBackoff <= 0 {
		out.ReconnectBackoff = 2 * time.Second
	}
	if out.MaxHandshakes <= 0 {
		out.MaxHandshakes = 128
	}
	if out.HandshakeTimeout <= 0 {
		out.HandshakeTimeout = 10 * time.Second
	}
	if out.Policy.SampleRate == 0 {
		out.Policy.SampleRate = 1
	}
	if out.Log == nil {
		out.Log = slog.New(slog.DiscardHandler)
	}
	if out.Sink == nil {
		out.Sink = discardSink{}
	}
	return out
}

type discardSink struct{}

func (discardSink) Write(*lakehouse.ProxyLogRecord) {}

// Source names the target whose answers clients get.
type Source uint8

const (
	SourcePrimary Source = iota
	SourceShadow
)

func (s Source) String() string {
	if s == SourceShadow {
		return "shadow"
	}
	return "primary"
}

// Proxy serves client connections.
type Proxy struct {
	cfg     Config
	stats   Stats
	live    *liveMetrics
	source  atomic.Uint32 // Source
	nextID  atomic.Uint64
	mu      sync.Mutex
	lns     []net.Listener
	conns   map[*session]struct{}
	closing bool
	wg      sync.WaitGroup // sessions (and their mirrors)
	killed  chan struct{}  // closed when Shutdown's deadline has passed
	kill    sync.Once
	// handshakes holds a token per connection logging in (Config.MaxHandshakes).
	handshakes chan struct{}
}

// New checks cfg and returns a proxy.
func New(cfg Config) (*Proxy, error) {
	c := cfg.withDefaults()
	if c.Primary == "" || c.Shadow == "" {
		return nil, errors.New("both a primary and a shadow address are needed")
	}
	if err := c.Policy.Validate(); err != nil {
		return nil, err
	}
	live := newLiveMetrics()
	c.Sink = observingSink{next: c.Sink, m: live}
	return &Proxy{cfg: c, live: live, conns: map[*session]struct{}{}, killed: make(chan struct{}),
		handshakes: make(chan struct{}, c.MaxHandshakes)}, nil
}

// Stats are the proxy's counters (exported as metrics by the command).
type Stats struct {
	ConnectionsTotal   atomic.Int64
	ConnectionsActive  atomic.Int64
	Commands           atomic.Int64 // client commands relayed
	PrimaryErrors      atomic.Int64 // server errors answered by the source
	ShadowExecuted     atomic.Int64
	ShadowErrors       atomic.Int64 // server errors from the mirror
	ShadowFailures     atomic.Int64 // transport failures and timeouts on the mirror
	ShadowDropped      atomic.Int64 // copies not executed: queue full, mirror unavailable...
	Filtered           atomic.Int64 // not mirrored by policy
	ShadowLoginFailure atomic.Int64
	Cutovers           atomic.Int64
	OpaqueSessions     atomic.Int64 // sessions relayed without reading after an unknown command
	QueuedCommands     atomic.Int64 // copies waiting in the shadow queues of all connections
	QueuedBytes        atomic.Int64 // ... their payload bytes
	HandshakesRefused  atomic.Int64 // connections refused before login: too many logging in, or an oversized packet
	// ShadowUserCanWrite is what the shadow user's grants say: 1 it can write, 0 it can only
	// read, -1 not known yet (set by the command from SHOW GRANTS).
	ShadowUserCanWrite atomic.Int64
}

// Stats returns the live counters.
func (p *Proxy) Stats() *Stats { return &p.stats }

// Source returns whose answers clients get now.
func (p *Proxy) Source() Source { return Source(p.source.Load()) }

// SetSource switches the source of answers for every connection at its next command boundary.
// It fails unless the proxy was configured with AllowCutover.
func (p *Proxy) SetSource(s Source) error {
	if s == SourceShadow && !p.cfg.AllowCutover {
		return errors.New("cutover is disabled (start srctl shadow with --allow-cutover)")
	}
	if Source(p.source.Swap(uint32(s))) != s {
		p.stats.Cutovers.Add(1)
		p.cfg.Log.Warn("source of answers switched", "source", s.String())
	}
	return nil
}

// Serve accepts connections on ln until it is closed by Shutdown.
func (p *Proxy) Serve(ln net.Listener) error {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	p.lns = append(p.lns, ln)
	// Shutdown waits for this loop too: a connection it accepts while Shutdown closes the
	// listener is then registered before the wait can end.
	p.wg.Add(1)
	defer p.wg.Done()
	p.mu.Unlock()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if p.isClosing() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporaryAccept(err) {
				backoff = min(max(backoff*2, 5*time.Millisecond), time.Second)
				p.cfg.Log.Warn("accept failed; retrying", "err", err, "in", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("accepting connections: %w", err)
		}
		backoff = 0
		s := p.newSession(nc)
		if s == nil {
			nc.Close()
			continue
		}
		go s.run()
	}
}

func (p *Proxy) isClosing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closing
}

func (p *Proxy) newSession(nc net.Conn) *session {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := newSession(p, nc, p.nextID.Add(1))
	if p.closing {
		// Accepted while the listener was being closed (a hand-over shares the socket with a
		// successor: this connection is ours). Serve its login and first command, then end.
		s.draining.Store(true)
	}
	p.conns[s] = struct{}{}
	p.wg.Add(1)
	p.stats.ConnectionsTotal.Add(1)
	p.stats.ConnectionsActive.Add(1)
	return s
}

func (p *Proxy) endSession(s *session) {
	p.mu.Lock()
	delete(p.conns, s)
	p.mu.Unlock()
	p.stats.ConnectionsActive.Add(-1)
	p.wg.Done()
}

// Shutdown stops accepting, lets open connections finish until ctx ends (a connection ends
// when its client quits; one idle between commands is closed at once, one in a command after
// the command), then closes what is left. The shadow queues of closed connections are
// finished within the same deadline. It returns how many connections were cut.
func (p *Proxy) Shutdown(ctx context.Context) int {
	p.mu.Lock()
	p.closing = true
	for _, ln := range p.lns {
		ln.Close()
	}
	for s := range p.conns {
		s.drain()
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return 0
	case <-ctx.Done():
	}
	p.mu.Lock()
	cut := len(p.conns)
	for s := range p.conns {
		s.kill()
	}
	p.mu.Unlock()
	p.kill.Do(func() { close(p.killed) })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return cut
}

// ActiveConnections is the number of open client connections.
func (p *Proxy) ActiveConnections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// TuneGC sets the proxy's memory limit unless GOGC or GOMEMLIMIT say otherwise: collections
// pace at Go's default GOGC=100, and more often only near 1 GiB. GOGC=400 was tried and dropped:
// on BenchmarkShadow (16 connections at full speed) it took the peak RSS from 164 to 258 MiB
// for no CPU saved (66 against 63 us of proxy CPU per query, within the noise).
func TuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(1 << 30)
}
