//go:build !linux

package proxylog

func mapFile(string) ([]byte, func() error, error) { return nil, nil, errNoMap }

func populate([]byte, int, int) {}

func discard([]byte, int, int) {}
