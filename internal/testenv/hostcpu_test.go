package testenv

import (
	"strings"
	"testing"
)

func TestDescribeCPUInfo(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 23\nmodel\t\t: 1\nmodel name\t: AMD EPYC\n" +
		"stepping\t: 2\ncpu MHz\t\t: 1996.249\nflags\t\t: " + strings.Repeat("fpu ", 20000) + "\n\n" +
		"processor\t: 1\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
	got := describeCPUInfo([]byte(info), 2)
	want := "AMD EPYC (AuthenticAMD family 23 model 1 stepping 2, 1996.249 MHz, 2 CPUs)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := describeCPUInfo([]byte("processor : 0\n"), 1); got != "unknown processor (? family ? model ? stepping ?, 1 CPUs)" {
		t.Errorf("an entry without the fields: %q", got)
	}
	if got := HostCPU(); got == "" {
		t.Error("HostCPU returned nothing")
	}
}
