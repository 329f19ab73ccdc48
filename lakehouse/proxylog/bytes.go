package proxylog

import (
	"bytes"
	"strconv"
)

// indexByte is bytes.IndexByte (assembly-backed); named so the decoder reads plainly.
func indexByte(b []byte, c byte) int { return bytes.IndexByte(b, c) }

func strconvQuote(b []byte) string { return strconv.Quote(string(b)) }
