//go:build !amd64

package profile

import "testing"

// eachLineMasksVersion runs check with the only version there is here, the Go one.
func eachLineMasksVersion(t *testing.T, check func(t *testing.T)) { check(t) }
