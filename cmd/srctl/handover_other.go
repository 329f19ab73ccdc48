//go:build !unix

package main

import "os"

// upgradeSignals: no hand-over where SIGUSR2 does not exist.
var upgradeSignals []os.Signal
