package analyze

import (
	"context"
	"fmt"
	"time"

	"github.com/srctl/srctl/lakehouse"
)

// attachValidateProfiles reads profile records and fills each endpoint-target's why column
// with the headline metrics and the operator that moved between the windows. A record belongs
// to the target whose cluster name it carries and to the window its query started in (each
// window widened by cfg.ProfileSlack: clocks differ, and a log row is written at completion).
func attachValidateProfiles(ctx context.Context, rep *ValidateReport, src ProfileSource, cfg ValidateConfig) error {
	counts := &ProfileJoinCounts{}
	rep.Profiles = counts
	type key struct{ endpoint, target string }
	known := map[key]int{}
	for i := range rep.Endpoints {
		known[key{rep.Endpoints[i].Endpoint, rep.Endpoints[i].Target}] = i
	}
	var ranges [2][2]time.Time
	for side, w := range []lakehouse.Window{cfg.Before, cfg.After} {
		lo, hi := w.Since, w.Until
		if lo.IsZero() && rep.span[side][0] != 0 {
			lo = time.Unix(0, rep.span[side][0])
		}
		if hi.IsZero() && rep.span[side][1] != 0 {
			hi = time.Unix(0, rep.span[side][1])
		}
		ranges[side] = [2]time.Time{lo.Add(-cfg.ProfileSlack), hi.Add(cfg.ProfileSlack)}
	}
	classify := profileClassifier(Config{GroupBy: cfg.GroupBy, Rules: cfg.Rules})
	sides := map[int]*[2]*sideSamples{}
	err := src.ReadProfiles(ctx, func(rec *lakehouse.ProfileRecord, err error) error {
		t, ok := counts.sort(rec, err, &rep.Warnings, cfg.PrimaryCluster, cfg.ShadowCluster)
		if !ok {
			return nil
		}
		target := []string{TargetPrimary, TargetShadow}[t]
		at := rec.PartitionTime()
		side := -1
		for s := range 2 {
			if r := ranges[s]; !r[0].IsZero() && !r[1].IsZero() && !at.Before(r[0]) && !at.After(r[1]) {
				side = s // the after window wins where widened windows overlap
			}
		}
		if side < 0 {
			counts.OutsideWindow++
			return nil
		}
		i, ok := known[key{classify(rec), target}]
		if !ok {
			return nil
		}
		if target == TargetPrimary {
			counts.PrimaryMatched++
		} else {
			counts.ShadowMatched++
		}
		ss := sides[i]
		if ss == nil {
			ss = &[2]*sideSamples{newSide(), newSide()}
			sides[i] = ss
		}
		if m := finishedMetrics(rec); m != nil {
			ss[side].add(m)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading profiles: %w", err)
	}
	// Only changed endpoints get a why: with a sample of profiles, the medians of unchanged
	// endpoints move by chance and would send readers after noise.
	for i, ss := range sides {
		if e := &rep.Endpoints[i]; e.Verdict == VerdictRegression || e.Verdict == VerdictImprovement {
			e.Why = append(e.Why, why(ss[before], ss[after])...)
		}
	}
	if counts.PrimaryMatched+counts.ShadowMatched == 0 && counts.Records > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("profiles: none of %d records matched an endpoint of the logs for clusters %q/%q in the windows (%d other clusters, %d outside)",
			counts.Records, cfg.PrimaryCluster, cfg.ShadowCluster, counts.OtherClusters, counts.OutsideWindow))
	}
	return nil
}
