package shadowproxy

import (
	"context"
	"errors"
	"net"
	"syscall"
)

// Listen opens a TCP listener with SO_REUSEPORT (where the system has it), so that a new
// instance of the proxy can bind the same address and take new connections while the old one
// drains: a restart without a moment of refused connections.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = setReusePort(fd) })
		if err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(ctx, "tcp", addr)
}

// isTemporaryAccept: out of file descriptors or a connection aborted before it was accepted;
// the listener itself is fine.
func isTemporaryAccept(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}
