package testenv

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// HostCPU names the processor a benchmark ran on more precisely than testing's "cpu:" line: the
// vendor's family and model tell processor generations apart under one brand string ("AMD
// EPYC" covers Zen 1 to Zen 5), and the same binary's figures moved by 2x between two of them
// on the development VM (2026-12-06: srctl diff's CPU doubled on a family 23 model 1 host,
// while DuckDB's wall time stayed where it was). Benchmarks print it so that figures are
// compared on one processor.
func HostCPU() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return fmt.Sprintf("%s/%s, %d CPUs (no /proc/cpuinfo)", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	}
	return describeCPUInfo(b, runtime.NumCPU())
}

// describeCPUInfo reads the first processor's entry of a /proc/cpuinfo text.
func describeCPUInfo(cpuinfo []byte, cpus int) string {
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20) // the flags line is long
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			break // the end of the first processor's entry
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if _, seen := fields[k]; !seen {
			fields[k] = strings.TrimSpace(v)
		}
	}
	name := fields["model name"]
	if name == "" {
		name = "unknown processor"
	}
	s := fmt.Sprintf("%s (%s family %s model %s stepping %s", name, orUnknown(fields["vendor_id"]),
		orUnknown(fields["cpu family"]), orUnknown(fields["model"]), orUnknown(fields["stepping"]))
	if mhz := fields["cpu MHz"]; mhz != "" {
		s += ", " + mhz + " MHz"
	}
	return s + fmt.Sprintf(", %d CPUs)", cpus)
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}
