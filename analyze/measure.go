package analyze

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/srctl/srctl/analyze/stats"
)

// Timing says how the two sides' latencies were measured, and how the comparison allows for it
// (Settings.Timing). The existing proxy times the primary while it forwards the answer to the
// client and the shadow while it reads the answer into the void, so an unchanged fast query
// looks a fraction of a millisecond faster on the shadow (FORMATS.md quirk 2); srctl shadow logs
// server-side times measured the same way on both targets.
type Timing struct {
	// Source is "server" (every latency pair timed by srctl shadow's server_ms), "proxy" (by the
	// proxy's duration_ms) or "mixed".
	Source string `json:"source"`
	// AsymmetryMS is how much faster the proxy makes an unchanged query look on the shadow,
	// measured from the logs themselves, and added back to every proxy-timed shadow duration
	// (quantiles, tests, intervals and impact use the corrected times). 0 when not measured.
	AsymmetryMS float64 `json:"asymmetry_ms"`
	Measured    bool    `json:"asymmetry_measured"`
	// Reference names the endpoints the asymmetry was measured on.
	Reference []string `json:"reference_endpoints,omitempty"`
	// MinDeltaMS is the absolute floor a change must pass; MinDeltaFrom says where it came from:
	// "flag" (--min-delta), "data" (twice the measured asymmetry: what this proxy's timing cannot
	// resolve) or "none".
	MinDeltaMS   float64 `json:"min_delta_ms"`
	MinDeltaFrom string  `json:"min_delta_from"`
}

// Reference endpoints for the asymmetry: fast ones (a primary mean under fastMeanMS), where a
// fixed forwarding cost is a large part of the time. Only those that look faster on the shadow
// vote (the proxy can only shorten the shadow's times; a slower endpoint is a regression, not the
// asymmetry), and at least minVoters must.
const (
	fastMeanMS = 10
	minVoters  = 2
)

// correctTiming measures the proxy's timing asymmetry on accs, adds it back to the proxy-timed
// shadow durations, and sets cfg's floor when it is automatic. It runs before the groups are
// summarised.
func correctTiming(table *groupTable, accs map[uint32]*groupAcc, ids []uint32, meds []endpointMedians, cfg *Config) Timing {
	var server, proxy int64
	for _, id := range ids {
		a := accs[id]
		server += a.serverTimed
		proxy += int64(len(a.pd)) - a.serverTimed
	}
	t := Timing{Source: "proxy"}
	switch {
	case proxy == 0 && server > 0:
		t.Source = "server"
	case proxy > 0 && server > 0:
		t.Source = "mixed"
	}
	type vote struct {
		name string
		med  float64
	}
	var votes []vote
	for i, id := range ids {
		// meds[i].timed: a fast endpoint timed by the proxy with enough pairs (see medians).
		if m := meds[i]; m.timed && m.timing < 0 {
			votes = append(votes, vote{table.info(id).Name, m.timing})
		}
	}
	if len(votes) >= minVoters {
		meds := make([]float64, len(votes))
		for i, v := range votes {
			meds[i] = v.med
			t.Reference = append(t.Reference, v.name)
		}
		slices.Sort(t.Reference)
		t.AsymmetryMS = -stats.Median(meds)
		t.AsymmetryMS = math.Round(t.AsymmetryMS*1e4) / 1e4
		t.Measured = true
		off := float32(t.AsymmetryMS)
		offNS := int64(math.Round(t.AsymmetryMS * 1e6))
		for _, id := range ids {
			a := accs[id]
			if a.serverTimed > 0 {
				continue // server times have no asymmetry to correct
			}
			for i := range a.sd {
				a.sd[i] += off
			}
			a.impactNS += offNS * int64(len(a.sd))
			for i := range a.detail {
				a.detail[i].s += off
			}
		}
	}
	switch {
	case cfg.MinDeltaMS > 0 || !cfg.MinDeltaAuto:
		t.MinDeltaMS, t.MinDeltaFrom = cfg.MinDeltaMS, "flag"
		if cfg.MinDeltaMS == 0 {
			t.MinDeltaFrom = "none"
		}
	case t.Measured:
		cfg.MinDeltaMS = math.Round(2*t.AsymmetryMS*1e4) / 1e4
		t.MinDeltaMS, t.MinDeltaFrom = cfg.MinDeltaMS, "data"
	default:
		t.MinDeltaFrom = "none"
	}
	return t
}

// timingLine says in one line how latencies were taken and corrected.
func timingLine(t Timing) string {
	var b strings.Builder
	switch t.Source {
	case "server":
		b.WriteString("timing: server-side times of srctl shadow on both sides")
	case "mixed":
		b.WriteString("timing: server-side times where both rows carry them, the proxy's durations elsewhere")
	default:
		b.WriteString("timing: the proxy's durations")
	}
	switch {
	case t.Measured:
		fmt.Fprintf(&b, "; the proxy makes the shadow look %.3g ms faster (median over %d fast endpoints: %s), added back to its times",
			t.AsymmetryMS, len(t.Reference), strings.Join(t.Reference, ", "))
	case t.Source != "server":
		b.WriteString("; no timing asymmetry measured (fewer than 2 fast endpoints look faster on the shadow), nothing corrected")
	}
	switch t.MinDeltaFrom {
	case "data":
		fmt.Fprintf(&b, "; changes under %.3g ms (twice that) are not reported", t.MinDeltaMS)
	case "flag":
		fmt.Fprintf(&b, "; changes under %.3g ms (--min-delta) are not reported", t.MinDeltaMS)
	}
	return b.String()
}
