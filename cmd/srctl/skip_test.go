package main

import (
	"os"
	"testing"
)

// skipOrFail skips a test, unless SRCTL_TEST_DISALLOW_SKIP=1 (set by CI), where a skip would
// let a test pass without running, so it fails instead.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("SRCTL_TEST_DISALLOW_SKIP") == "1" {
		t.Fatalf("would skip (%s), but SRCTL_TEST_DISALLOW_SKIP=1 forbids skipping", why)
	}
	t.Skip(why)
}
