package analyze

import "github.com/srctl/srctl/lakehouse/proxylog"

// ValidateSchema names the JSON layout of ValidateReport; it changes only with a new version.
const ValidateSchema = "srctl.validate/v1"

// ValidateReport is the result of srctl validate: what `srctl validate --format json` prints
// (README documents it). One entry per endpoint and target: a change validated on the shadow
// while the primary runs the old version reads as two rows.
type ValidateReport struct {
	Schema      string             `json:"schema"`
	Headline    Headline           `json:"headline"`
	Settings    ValidateSettings   `json:"settings"`
	Before      WindowSummary      `json:"before"`
	After       WindowSummary      `json:"after"`
	Summary     ValidateSummary    `json:"summary"`
	Endpoints   []ValidateEndpoint `json:"endpoints"`
	DataQuality proxylog.Quality   `json:"data_quality"`
	Warnings    []string           `json:"warnings,omitempty"`
	Drill       *ValidateDrill     `json:"drill,omitempty"`
	Profiles    *ProfileJoinCounts `json:"profiles,omitempty"`

	span [2][2]int64 // first and last execution of each window, Unix ns
}

// Headline is the report's first line, the way Oracle's SQL Performance Analyzer and SQL
// Server's Database Experimentation Assistant open theirs: endpoints (per target) improved,
// regressed, unchanged and not evaluable, by count and by executions (both windows), and the
// net time the change saves (negative) or costs per day at the after-window's traffic.
type Headline struct {
	Improved       VerdictCount `json:"improved"`
	Regressed      VerdictCount `json:"regressed"`
	Unchanged      VerdictCount `json:"unchanged"`
	CannotEvaluate VerdictCount `json:"cannot_evaluate"`
	// NetMSPerDay sums, over the endpoints with a verdict (regression or improvement), the
	// change of the mean latency times their executions per day after the change: positive is
	// time lost. Endpoints without a significant change are left out: their mean differences are
	// noise, and summed over many endpoints noise looks like an effect.
	NetMSPerDay float64 `json:"net_ms_per_day"`
	// ErrorsWorse and ResultsChanged count endpoints whose error rate rose significantly and
	// whose results changed; TrafficShifted those whose load moved by --traffic-factor or more.
	ErrorsWorse    int `json:"errors_worse"`
	ResultsChanged int `json:"results_changed"`
	TrafficShifted int `json:"traffic_shifted"`
}

// VerdictCount counts endpoints and their executions.
type VerdictCount struct {
	Endpoints  int   `json:"endpoints"`
	Executions int64 `json:"executions"`
}

// ValidateSettings are the statistical settings the report was made with.
type ValidateSettings struct {
	GroupBy       string  `json:"group_by"`
	Alpha         float64 `json:"alpha"`
	MinExecutions int     `json:"min_executions"`
	ThresholdPct  float64 `json:"threshold_pct"`
	MinDeltaMS    float64 `json:"min_delta_ms"`
	TrafficFactor float64 `json:"traffic_factor"`
	Targets       string  `json:"targets"`
	// TailLevel is the confidence level of each quantile's interval after the Bonferroni
	// correction over the endpoints tested.
	TailLevel       float64 `json:"tail_ci_level"`
	EndpointsTested int     `json:"endpoints_tested"`
	ChangeAt        string  `json:"change_at,omitempty"`
}

// WindowSummary describes one side of the comparison.
type WindowSummary struct {
	Since      string  `json:"since,omitempty"` // the window asked for, when one was
	Until      string  `json:"until,omitempty"`
	FirstQuery string  `json:"first_query,omitempty"`
	LastQuery  string  `json:"last_query,omitempty"`
	Hours      float64 `json:"hours"` // the length rates are computed over
	Executions int64   `json:"executions"`
	// HoursOfDay counts executions by UTC hour of the day: load follows the clock, so two
	// windows at different hours differ for reasons that are not the change.
	HoursOfDay [24]int64 `json:"hours_of_day"`
}

// ValidateSummary counts what was read; every row lands in exactly one of the row counters.
type ValidateSummary struct {
	Files      int   `json:"files"`
	Bytes      int64 `json:"bytes"`
	Rows       int64 `json:"rows"`
	Executions int64 `json:"executions"` // rows compared: COM_QUERY / COM_STMT_EXECUTE rows inside a window
	OtherRows  int64 `json:"other_command_rows"`
	// OtherTargetRows are rows of the target --target leaves out, or of no known target.
	OtherTargetRows int64 `json:"other_target_rows"`
	BadLines        int64 `json:"bad_lines"`
	NotExecuted     int64 `json:"not_executed_rows"` // the proxy's synthetic rows: filtered or dropped shadow copies
	Duplicates      int64 `json:"duplicate_rows"`
	// OutsideWindows are rows in neither window (with --change-at or explicit windows).
	OutsideWindows int64 `json:"outside_window_rows"`
	PrunedFiles    int   `json:"pruned_files"`
	// TimeOfDayOverlapPct is how much the two windows' hour-of-day distributions overlap (100:
	// the same hours in the same proportions).
	TimeOfDayOverlapPct float64 `json:"time_of_day_overlap_pct"`
	ElapsedSeconds      float64 `json:"elapsed_seconds"`
}

// ValidateEndpoint is one endpoint on one target.
type ValidateEndpoint struct {
	Endpoint  string `json:"endpoint"`
	Target    string `json:"target"` // primary or shadow
	Source    string `json:"source"`
	SampleSQL string `json:"sample_sql"`
	// Verdict: regression, improvement, "~" (no significant change) or "insufficient data".
	// An endpoint is never an improvement when one of its quantiles regressed significantly:
	// it is a regression, RegressedAt names the quantiles and Mixed says what improved.
	Verdict     string   `json:"verdict"`
	RegressedAt []string `json:"regressed_at"` // p50, p90, p95, p99 and/or centre
	ImprovedAt  []string `json:"improved_at"`
	Mixed       bool     `json:"mixed"`
	// Reason says why an endpoint cannot be evaluated.
	Reason string `json:"reason,omitempty"`
	// Timing is the measure compared: server_ms (srctl shadow's, on every row of both windows)
	// or duration_ms.
	Timing    string           `json:"timing"`
	Before    SideStats        `json:"before"`
	After     SideStats        `json:"after"`
	Quantiles []QuantileChange `json:"quantiles"`
	Centre    CentreChange     `json:"centre"`
	Traffic   TrafficChange    `json:"traffic"`
	Errors    ErrorChange      `json:"errors"`
	Results   ResultChange     `json:"results"`
	ImpactMS  float64          `json:"impact_ms_per_day"` // mean change x executions per day after
	Why       []string         `json:"why"`
	Notes     []string         `json:"notes,omitempty"`
	sorted    [2][]float32     // per window, for the drill-down's curves
}

// SideStats describe one window of an endpoint on a target.
type SideStats struct {
	Executions int64     `json:"executions"` // rows executed (successes and failures)
	Latencies  int64     `json:"latencies"`  // successful executions: the latency sample
	Failures   int64     `json:"failures"`
	MeanMS     float64   `json:"mean_ms"`
	Quantiles  Quantiles `json:"ms"`
	PerHour    float64   `json:"per_hour"`
}

// QuantileChange is one quantile's comparison.
type QuantileChange struct {
	Quantile string  `json:"quantile"` // p50, p90, p95, p99
	BeforeMS float64 `json:"before_ms"`
	AfterMS  float64 `json:"after_ms"`
	DeltaPct float64 `json:"delta_pct"`
	// CIPct bounds the change in percent: each window's distribution-free order-statistic
	// interval at half the (Bonferroni-corrected) error level, combined; nil when a window has
	// too few executions for one.
	CIPct   *[2]float64 `json:"ci_pct"`
	Verdict string      `json:"verdict"`
}

// CentreChange is the comparison of the centres: Mann-Whitney on log latencies, its
// Hodges-Lehmann shift as a ratio, Benjamini-Hochberg across endpoints.
type CentreChange struct {
	ShiftPct  float64     `json:"shift_pct"`
	CIPct     *[2]float64 `json:"ci_pct"`
	PValue    float64     `json:"p_value"`
	PAdjusted float64     `json:"p_adjusted"`
}

// TrafficChange compares the endpoint's load in the two windows.
type TrafficChange struct {
	BeforePerHour  float64 `json:"before_per_hour"`
	AfterPerHour   float64 `json:"after_per_hour"`
	ShareBeforePct float64 `json:"share_before_pct"`
	ShareAfterPct  float64 `json:"share_after_pct"`
	// Shifted: the endpoint's share of the window's executions moved by the traffic factor or
	// more, either way (load changes latency).
	Shifted bool `json:"shifted"`
}

// ErrorChange compares failures: rates, and error kinds new after the change, still there, or
// gone. An error is keyed by its code and message.
type ErrorChange struct {
	BeforeRatePct float64        `json:"before_rate_pct"`
	AfterRatePct  float64        `json:"after_rate_pct"`
	PValue        float64        `json:"p_value"`
	Worse         bool           `json:"worse"` // the rate rose significantly (Bonferroni over endpoints)
	New           []ErrorKindSet `json:"new"`
	Existing      []ErrorKindSet `json:"existing"`
	Resolved      []ErrorKindSet `json:"resolved"`
}

// ErrorKindSet is one kind of error and its counts in each window.
type ErrorKindSet struct {
	ErrorCode int    `json:"error_code,omitempty"`
	Error     string `json:"error"`
	Before    int64  `json:"before"`
	After     int64  `json:"after"`
	Example   string `json:"example_query_id,omitempty"`
}

// ResultChange compares what the endpoint returned, as far as the logs say.
type ResultChange struct {
	BeforeMedianBytes int64 `json:"before_median_bytes"`
	AfterMedianBytes  int64 `json:"after_median_bytes"`
	// ErrorSized* count successful answers no bigger than an ERR packet: the existing proxy logs
	// SQL errors as successes, so a collapse to error size is an error it did not see.
	ErrorSizedBefore int64 `json:"error_sized_before"`
	ErrorSizedAfter  int64 `json:"error_sized_after"`
	// HashCompared counts SQL texts executed in both windows with result hashes (srctl shadow
	// logs them); HashChanged those whose result set differs (data may have changed too).
	HashCompared int64 `json:"hash_compared"`
	HashChanged  int64 `json:"hash_changed"`
	Changed      bool  `json:"changed"`
}

// ValidateDrill details one endpoint (--endpoint): its latency curves before and after, per
// target, and its errors.
type ValidateDrill struct {
	Endpoint string         `json:"endpoint"`
	Curves   []LatencyCurve `json:"curves"`
	Errors   []ErrorKindSet `json:"errors"`
}

// LatencyCurve is an endpoint's quantile function on one target, before and after.
type LatencyCurve struct {
	Target string       `json:"target"`
	Points []CurvePoint `json:"points"`
}

// CurvePoint is one quantile of a curve; Before or After is null when that window has no
// executions.
type CurvePoint struct {
	Quantile float64  `json:"quantile"`
	BeforeMS *float64 `json:"before_ms"`
	AfterMS  *float64 `json:"after_ms"`
}
