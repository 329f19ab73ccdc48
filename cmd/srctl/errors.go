// Exit codes and the errors that carry them: the one place main.go turns an error into a status.
package main

import "fmt"

// Exit codes, stable for scripts and CI.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // bad flags or values: nothing was done
	// srctl diff --fail-on adds 4, 8 and 16 (see cmd_diff.go).
)

// usageError marks errors in what the user asked for, as opposed to failures while doing it.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// Exit codes of `srctl diff --fail-on`: bit flags, so a gate can tell what tripped it.
const (
	exitRegression    = 4
	exitShadowFailure = 8
	exitDivergence    = 16
)

// exitCodeError ends the command with a specific exit code; msg (if any) is printed.
type exitCodeError struct {
	code int
	msg  string
}

func (e *exitCodeError) Error() string { return e.msg }
