package analyze

import "github.com/srctl/srctl/lakehouse/proxylog"

// ReportSchema names the JSON layout of Report; it changes only with a new version.
const ReportSchema = "srctl.diff/v1"

// Verdicts.
const (
	VerdictRegression   = "regression"
	VerdictImprovement  = "improvement"
	VerdictSame         = "~"
	VerdictInsufficient = "insufficient data"
)

// Report is the result of a diff: what `srctl diff --format json` prints (README documents it).
type Report struct {
	Schema      string             `json:"schema"`
	Summary     Summary            `json:"summary"`
	Settings    Settings           `json:"settings"`
	Endpoints   []EndpointReport   `json:"endpoints"`
	Failures    []FailureGroup     `json:"failures"`
	DataQuality proxylog.Quality   `json:"data_quality"`
	Warnings    []string           `json:"warnings,omitempty"`
	Drill       *Drill             `json:"drill,omitempty"`
	Profiles    *ProfileJoinCounts `json:"profiles,omitempty"`

	firstNS, lastNS int64 // primary time range of the pairs, for joining profiles
	// loggedShadowFails: query hash -> times of the shadow-only failures the logs showed.
	loggedShadowFails map[[16]byte][]int64
}

// Settings are the statistical settings the report was made with.
type Settings struct {
	GroupBy         string  `json:"group_by"`
	Alpha           float64 `json:"alpha"`
	MinPairs        int     `json:"min_pairs"`
	ThresholdPct    float64 `json:"threshold_pct"`
	TailLevel       float64 `json:"tail_ci_level"` // confidence level of each tail interval after correction
	EndpointsTested int     `json:"endpoints_tested"`
	Since           string  `json:"since,omitempty"`
	Until           string  `json:"until,omitempty"`
	Timing          Timing  `json:"timing"`
}

// Summary counts rows and pairs; every row read lands in exactly one of the row counters.
type Summary struct {
	Files       int   `json:"files"`
	Bytes       int64 `json:"bytes"`
	Rows        int64 `json:"rows"`
	QueryRows   int64 `json:"query_rows"`   // COM_QUERY rows
	ExecuteRows int64 `json:"execute_rows"` // COM_STMT_EXECUTE rows (no text: one group of their own)
	OtherRows   int64 `json:"other_command_rows"`
	BadLines    int64 `json:"bad_lines"` // lines that were not rows (see data_quality)
	// Pairs are query ids seen on both targets inside the window.
	Pairs        int64 `json:"pairs"`
	LatencyPairs int64 `json:"latency_pairs"` // both sides succeeded and neither was filtered
	FailedPairs  int64 `json:"failed_pairs"`  // at least one side failed
	// SuspectedErrorPairs both succeeded in the log, but the shadow's answer is error-sized where
	// the primary returned a result (the existing proxy logs SQL errors as successes): never a
	// latency sample (a failing query is fast, not an improvement).
	SuspectedErrorPairs int64 `json:"suspected_error_pairs"`
	Filtered            int64 `json:"filtered_pairs"`
	// FilteredBy counts filtered pairs by filter_reason.
	FilteredBy map[string]int64 `json:"filtered_by,omitempty"`
	Duplicates int64            `json:"duplicate_rows"`
	// ShadowMissing are primary rows whose shadow row never came (a full shadow queue drops it).
	ShadowMissing int64 `json:"shadow_missing"`
	// PrimaryOnlyConnectionRows are primary rows of connections that have no shadow row at all
	// (the shadow login failed).
	PrimaryOnlyConnectionRows int64 `json:"primary_only_connection_rows"`
	PrimaryOnlyConnections    int64 `json:"primary_only_connections"`
	UnpairedShadow            int64 `json:"unpaired_shadow"`
	OutsideWindow             int64 `json:"outside_window_rows"`
	Endpoints                 int   `json:"endpoints"`
	Regressions               int   `json:"regressions"`
	Improvements              int   `json:"improvements"`
	ShadowOnlyFailures        int64 `json:"shadow_only_failures"`
	PrimaryOnlyFailures       int64 `json:"primary_only_failures"`
	BothFailures              int64 `json:"both_failures"`
	SizeDivergentEndpoints    int   `json:"size_divergent_endpoints"`
	ResultMismatches          int64 `json:"result_mismatches"`
	// ResultOrderOnly: pairs whose rows are the same but in another order (result_set_hash
	// equal, result_hash not): no ORDER BY, or one the shadow resolves differently.
	ResultOrderOnly int64 `json:"result_order_only"`
	// Dropped are pairs whose shadow copy srctl shadow did not execute (queue full, shadow
	// unreachable...), by drop_reason: neither failures nor latency pairs.
	Dropped        int64            `json:"dropped"`
	DroppedBy      map[string]int64 `json:"dropped_by,omitempty"`
	PrunedFiles    int              `json:"pruned_files"`
	FirstQuery     string           `json:"first_query,omitempty"` // primary time of the first and last pair
	LastQuery      string           `json:"last_query,omitempty"`
	ElapsedSeconds float64          `json:"elapsed_seconds"`
}

// Quantiles are latencies in milliseconds (or, in delta_pct, changes in percent).
type Quantiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// QuantileIntervals hold the confidence interval of each quantile's change in percent; nil when
// there are too few pairs for one.
type QuantileIntervals struct {
	P50 *[2]float64 `json:"p50"`
	P90 *[2]float64 `json:"p90"`
	P95 *[2]float64 `json:"p95"`
	P99 *[2]float64 `json:"p99"`
}

// QuantileVerdicts give each quantile's own verdict.
type QuantileVerdicts struct {
	P50 string `json:"p50"`
	P90 string `json:"p90"`
	P95 string `json:"p95"`
	P99 string `json:"p99"`
}

// SizeDivergence is the response-size signal of SQL errors and different results that the
// proxy logs as successes (FORMATS.md quirk 1).
type SizeDivergence struct {
	Compared    int64         `json:"compared"`     // pairs where both sides succeeded
	OffsetBytes int64         `json:"offset_bytes"` // typical shadow-primary difference, discounted
	Collapsed   int64         `json:"collapsed"`    // shadow response error-sized, primary not
	Differing   int64         `json:"differing"`    // differs from primary beyond the offset
	Suspected   bool          `json:"suspected"`    // most pairs collapse or differ
	Examples    []SizeExample `json:"examples,omitempty"`
}

// SizeExample is one pair whose shadow response size diverged.
type SizeExample struct {
	QueryID      string `json:"query_id"`
	PrimaryBytes int64  `json:"primary_bytes"`
	ShadowBytes  int64  `json:"shadow_bytes"`
	ts           int64  // the primary row's time: the earliest examples are kept
}

// EndpointReport is one group's comparison.
type EndpointReport struct {
	Endpoint  string            `json:"endpoint"`
	Source    string            `json:"source"` // sqlcommenter, marginalia, rule, fingerprint, command, query_hash
	SampleSQL string            `json:"sample_sql,omitempty"`
	Pairs     int64             `json:"pairs"` // latency pairs
	Primary   Quantiles         `json:"primary"`
	Shadow    Quantiles         `json:"shadow"`
	DeltaPct  Quantiles         `json:"delta_pct"`
	CIPct     QuantileIntervals `json:"ci_pct"`
	// CentreDeltaPct is the median of the paired shadow/primary ratios, in percent, with its
	// interval: the paired estimate the Wilcoxon test is about.
	CentreDeltaPct      float64          `json:"centre_delta_pct"`
	CentreCIPct         *[2]float64      `json:"centre_ci_pct"`
	PValue              float64          `json:"p_value"`    // Wilcoxon signed-rank, two-sided
	PAdjusted           float64          `json:"p_adjusted"` // Benjamini-Hochberg across endpoints
	Verdict             string           `json:"verdict"`
	QuantileVerdicts    QuantileVerdicts `json:"quantile_verdicts"`
	ImpactMS            float64          `json:"impact_ms"` // sum over pairs of shadow - primary
	ShadowOnlyFailures  int64            `json:"shadow_only_failures"`
	PrimaryOnlyFailures int64            `json:"primary_only_failures"`
	BothFailures        int64            `json:"both_failures"`
	FilteredPairs       int64            `json:"filtered_pairs"`
	SizeDivergence      SizeDivergence   `json:"size_divergence"`
	ResultCompared      int64            `json:"result_compared"`   // pairs with result hashes on both sides
	ResultMismatches    int64            `json:"result_mismatches"` // ... that return different rows
	ResultOrderOnly     int64            `json:"result_order_only"` // ... the same rows in another order
	ResultExamples      []ResultExample  `json:"result_examples,omitempty"`
	DroppedPairs        int64            `json:"dropped_pairs"` // shadow copy not executed
	// SuspectedErrorPairs: pairs out of latency because the shadow's answer is error-sized.
	SuspectedErrorPairs int64    `json:"suspected_error_pairs"`
	Why                 []string `json:"why"`
	Notes               []string `json:"notes,omitempty"`

	curve [2][]float64 // primary and shadow latency at plotLevels, for the HTML report's plot
}

// ResultExample is one pair whose results differ.
type ResultExample struct {
	QueryID     string `json:"query_id"`
	SQL         string `json:"sql,omitempty"` // empty when the pair's rows were in different chunks of the logs
	PrimaryHash string `json:"primary_result_hash"`
	ShadowHash  string `json:"shadow_result_hash"`
	PrimaryRows int64  `json:"primary_rows"` // -1: not logged
	ShadowRows  int64  `json:"shadow_rows"`
	ts          int64
}

// Failure kinds.
const (
	FailShadowOnly  = "shadow_only"
	FailPrimaryOnly = "primary_only"
	FailBoth        = "both"
	// FailShadowProfile: FAILED in the shadow cluster's collected query details while the primary
	// cluster FINISHED the same text (SQL errors the proxy logs as successes).
	FailShadowProfile = "shadow_profile_failed"
)

// FailureGroup is a count of failures of one kind with one message in one endpoint.
type FailureGroup struct {
	Endpoint string `json:"endpoint"`
	Kind     string `json:"kind"`
	Error    string `json:"error"`
	// ErrorCode is the server's error code when the log has it (srctl shadow), else 0.
	ErrorCode int   `json:"error_code,omitempty"`
	Count     int64 `json:"count"`
	// Example is the earliest failure's query id (ties: the smallest id), so that the report
	// does not depend on the order rows were read in.
	Example   string `json:"example_query_id,omitempty"`
	exampleTS int64
}

// offer makes (ts, id) the example if it comes before the current one.
func (f *FailureGroup) offer(ts int64, id string) {
	if f.Example == "" || ts < f.exampleTS || ts == f.exampleTS && id < f.Example {
		f.Example, f.exampleTS = id, ts
	}
}

// Drill is the detail of one endpoint (--endpoint).
type Drill struct {
	Endpoint string          `json:"endpoint"`
	Worst    []PairDetail    `json:"worst_pairs"`
	Errors   []FailureGroup  `json:"errors"`
	Profile  *ProfileCompare `json:"profile_comparison,omitempty"`

	pairs []pairRef // every pair of the endpoint, for choosing a representative
}

// PairDetail is one pair of the drilled endpoint.
type PairDetail struct {
	QueryID   string  `json:"query_id"`
	TS        string  `json:"ts"`
	PrimaryMS float64 `json:"primary_ms"`
	ShadowMS  float64 `json:"shadow_ms"`
	DeltaPct  float64 `json:"delta_pct"`
	SQL       string  `json:"sql"`
	QueryHash string  `json:"query_hash,omitempty"`
}

// ProfileCompare compares the profiles of one representative pair.
type ProfileCompare struct {
	QueryID          string   `json:"query_id"`
	PrimaryProfileID string   `json:"primary_sr_query_id"`
	ShadowProfileID  string   `json:"shadow_sr_query_id"`
	Lines            []string `json:"lines"`
}

// ProfileJoinCounts say how many profile records the "why" column rests on.
type ProfileJoinCounts struct {
	Records        int64 `json:"records"`
	PrimaryMatched int64 `json:"primary_matched"`
	ShadowMatched  int64 `json:"shadow_matched"`
	OtherClusters  int64 `json:"other_clusters"`
	OutsideWindow  int64 `json:"outside_window"`
	BadLines       int64 `json:"bad_lines"`
	// FailedAlsoLogged: shadow FAILED records of an execution the logs already counted as a
	// shadow-only failure (same query hash within FailureMatchWindow), not counted again.
	FailedAlsoLogged int64 `json:"failed_also_logged,omitempty"`
}
