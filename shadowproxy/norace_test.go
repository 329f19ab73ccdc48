//go:build !race

package shadowproxy

// raceEnabled: the race detector multiplies memory and CPU, so bounds on them are not checked.
const raceEnabled = false
