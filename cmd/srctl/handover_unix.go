//go:build unix

package main

import (
	"os"
	"syscall"
)

// upgradeSignals start a hand-over to a successor (see handover.go).
var upgradeSignals = []os.Signal{syscall.SIGUSR2}
