//go:build !amd64

package profile

// lineMasks writes the newline and blank masks of b's 64-byte blocks into nl and blank
// (len(b) == 64*len(nl) == 64*len(blank)); no vector version here.
func lineMasks(b string, nl, blank []uint64) {
	if len(b) != 64*len(nl) || len(nl) != len(blank) {
		panic("profile: lineMasks: lengths do not match")
	}
	lineMasksGeneric(b, nl, blank)
}
