//go:build !linux

package shadowproxy

// setReusePort is a no-op where SO_REUSEPORT is not wired up: a restart then has to stop the
// old instance before the new one binds.
func setReusePort(uintptr) error { return nil }
