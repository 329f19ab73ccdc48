package mysqlwire

import (
	"net"
	"runtime"
	"syscall"
)

// A request-response exchange through Go's network poller costs a read more than it needs:
// the read that follows a request almost always finds nothing yet (the server is still at
// work), fails with EAGAIN, parks, and reads again once the poller says the answer is there.
// WriteFrameAwaitingReply writes the request from inside the connection's RawConn.Read instead:
// the poller's read readiness is reset before the request leaves, so the answer's arrival is
// never missed, and the read that follows finds it at once. On a virtual machine a system call
// costs microseconds: `srctl shadow` makes such an exchange with the primary for every command
// and with the shadow for every mirrored one.

// awaitReplySupported: the RawConn's reset-then-wait order is what Linux's poller does (and what
// TestAwaitingReplySavesARead measures); elsewhere exchanges take the usual path.
const awaitReplySupported = runtime.GOOS == "linux"

// RawConnOf returns nc's syscall.RawConn when nc is a plain TCP or Unix connection, for
// FrameConn.Raw; nil for anything else (TLS, a wrapper that buffers), which then takes the usual
// path.
func RawConnOf(nc net.Conn) syscall.RawConn {
	if !awaitReplySupported {
		return nil
	}
	var rc syscall.RawConn
	var err error
	switch c := nc.(type) {
	case *net.TCPConn:
		rc, err = c.SyscallConn()
	case *net.UnixConn:
		rc, err = c.SyscallConn()
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	return rc
}

// awaitState is the exchange WriteFrameAwaitingReply is making, kept in the FrameConn so that
// an exchange costs no allocation: step is f.awaitStep, bound once per FrameConn (boundTo is the
// FrameConn it was bound for, so that a copied FrameConn binds its own).
type awaitState struct {
	boundTo   *FrameConn
	step      func(uintptr) bool
	p         []byte
	seq       uint8
	meanwhile func()
	wrote     bool
	err       error
}

// WriteFrameAwaitingReply writes one frame, as WriteFrame does, for a command the peer answers,
// and returns once the answer can be read (or the wait failed: a closed connection, a passed
// read deadline, which the read that follows reports as it would have). meanwhile, if not nil,
// runs once after the write and before the wait, so that work the answer does not need overlaps
// the peer's. Without f.Raw, or when a read is already buffered, it is WriteFrame then
// meanwhile. Only the goroutine that reads f may call it.
func (f *FrameConn) WriteFrameAwaitingReply(p []byte, seq uint8, meanwhile func()) error {
	if f.Raw == nil || f.R.Buffered() > 0 {
		err := f.WriteFrame(p, seq)
		if meanwhile != nil {
			meanwhile()
		}
		return err
	}
	if f.await.boundTo != f {
		f.await = awaitState{boundTo: f, step: f.awaitStep}
	}
	a := &f.await
	a.p, a.seq, a.meanwhile, a.wrote, a.err = p, seq, meanwhile, false, nil
	f.Raw.Read(a.step) //nolint:errcheck // a failed wait is the next read's error
	if !a.wrote {      // the wait could not start (a closed connection, a passed deadline)
		f.awaitWrite()
	}
	err := a.err
	a.p, a.meanwhile, a.err = nil, nil, nil // hold on to nothing of the caller's
	return err
}

// awaitStep is the RawConn.Read callback: it runs with the connection's read lock held (a write
// does not take it) after the poller's read readiness was reset. The first call writes the
// frame and asks to wait; the next, once the answer can be read, ends the wait.
func (f *FrameConn) awaitStep(uintptr) bool {
	if f.await.wrote {
		return true
	}
	f.awaitWrite()
	return f.await.err != nil // wait only for the answer to a request that went out
}

func (f *FrameConn) awaitWrite() {
	a := &f.await
	a.wrote = true
	a.err = f.WriteFrame(a.p, a.seq)
	if a.meanwhile != nil {
		a.meanwhile()
	}
}
