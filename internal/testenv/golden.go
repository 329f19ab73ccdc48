package testenv

import (
	"flag"
	"os"
	"testing"
)

// update is the -update flag of every test binary that compares against golden files through
// Golden.
var update = flag.Bool("update", false, "rewrite golden files")

// Update reports -update, for golden helpers that print their own differences.
func Update() bool { return *update }

// Golden compares got with the file at path, or rewrites the file with `go test -update`.
func Golden(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s", path, got)
	}
}
