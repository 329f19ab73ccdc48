package harness

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// RowDiff is the comparison of the two result sets.
type RowDiff struct {
	// Ordered: both queries order their final result (top-level ORDER BY), so the order is
	// compared too; otherwise results are multisets.
	Ordered          bool     `json:"ordered"`
	BaselineRows     int64    `json:"baseline_rows"`
	CandidateRows    int64    `json:"candidate_rows"`
	BaselineColumns  []Column `json:"baseline_columns"`
	CandidateColumns []Column `json:"candidate_columns"`
	ColumnsDiffer    bool     `json:"columns_differ"`
	// Missing rows are in the baseline only, Extra in the candidate only; Changed counts pairs
	// of a missing and an extra row with the same first column, shown side by side.
	Missing int64 `json:"missing"`
	Extra   int64 `json:"extra"`
	Changed int64 `json:"changed"`
	// OtherOrder: the same rows, in another order (only a difference when Ordered).
	OtherOrder bool `json:"same_rows_other_order"`
	// FirstOrderDiff is the 0-based position of the first row that differs in an ordered
	// comparison (-1: none).
	FirstOrderDiff int64        `json:"first_order_diff"`
	Examples       []RowExample `json:"examples,omitempty"`
	// Truncated: more rows differ than were located (--max-examples shows fewer still).
	Truncated bool `json:"truncated,omitempty"`
	// Unstable: the locate pass saw other results than the first run (a non-deterministic
	// query, or data that changed meanwhile); counts come from the locate pass.
	Unstable bool `json:"unstable,omitempty"`
}

// RowExample is one differing row: "changed" (both sides), "missing" (baseline only),
// "extra" (candidate only) or "order" (the first position where ordered results differ).
type RowExample struct {
	Kind      string    `json:"kind"`
	Position  int64     `json:"position,omitempty"`
	Baseline  []*string `json:"baseline,omitempty"`
	Candidate []*string `json:"candidate,omitempty"`
}

// Differs reports a failing result difference.
func (d *RowDiff) Differs() bool {
	return d.ColumnsDiffer || d.Missing > 0 || d.Extra > 0 || d.Changed > 0 || (d.Ordered && d.OtherOrder)
}

// Summary says in one line how the results differ.
func (d *RowDiff) Summary() string {
	var parts []string
	if d.ColumnsDiffer {
		parts = append(parts, fmt.Sprintf("columns differ (%s vs %s)", columnList(d.BaselineColumns), columnList(d.CandidateColumns)))
	}
	if d.Changed > 0 {
		parts = append(parts, fmt.Sprintf("%d changed", d.Changed))
	}
	if d.Missing > 0 {
		parts = append(parts, fmt.Sprintf("%d missing", d.Missing))
	}
	if d.Extra > 0 {
		parts = append(parts, fmt.Sprintf("%d extra", d.Extra))
	}
	if d.Ordered && d.OtherOrder {
		parts = append(parts, fmt.Sprintf("same rows in another order (first difference at row %d)", d.FirstOrderDiff+1))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("same %d rows", d.BaselineRows)
	}
	return fmt.Sprintf("result differs: %s (baseline %d rows, candidate %d)", strings.Join(parts, ", "), d.BaselineRows, d.CandidateRows)
}

func columnList(cols []Column) string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = c.Name + " " + c.Type
	}
	return strings.Join(s, ", ")
}

// maxRowsForOrdering bounds the baseline row hashes kept for the order check of an ordered
// locate pass (8 bytes each).
const maxRowsForOrdering = 50_000_000

// locatedRow is a row kept by the locate pass with its hash.
type locatedRow struct {
	h   uint64
	row []*string
}

// locate finds the differing rows in three streaming passes, holding only the baseline's row
// hashes (8 bytes and a count per distinct row) and at most MaxLocateRows rows per side:
// baseline (count hashes), candidate (keep the rows the baseline lacks), baseline again (keep
// the rows the candidate lacked). Leftover rows within the float tolerance of each other are
// equal after all; the rest are paired by first column into changed rows.
func (c *Comparer) locate(ctx context.Context, a, b *Session, cs Case, d *RowDiff, tol float64) error {
	limit := max(c.cfg.MaxLocateRows, 1)
	// Hash both sides by the baseline's column kinds, so that a type change alone (DECIMAL to
	// DOUBLE) compares values, not types; the columns themselves are compared separately.
	kindsFrom := d.BaselineColumns
	rh := newRowHasher(c.seed, kindsFrom, tol)
	counts := map[uint64]int32{}
	var seq []uint64
	var baseRows int64
	if _, _, err := a.Run(ctx, c.tagged(cs.Baseline, "locate"), c.cfg.Timeout, func(row []sql.RawBytes) error {
		h := rh.Hash(row)
		counts[h]++
		baseRows++
		if d.Ordered && len(seq) < maxRowsForOrdering {
			seq = append(seq, h)
		}
		return nil
	}, nil); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}

	var extra []locatedRow
	var extraCount, candRows int64
	var orderCand []*string
	if _, _, err := b.Run(ctx, c.tagged(cs.Candidate, "locate"), c.cfg.Timeout, func(row []sql.RawBytes) error {
		h := rh.Hash(row)
		if d.Ordered && d.FirstOrderDiff < 0 && candRows < int64(len(seq)) && seq[candRows] != h {
			d.FirstOrderDiff = candRows
			orderCand = copyRow(row)
		}
		candRows++
		if counts[h] > 0 {
			counts[h]--
			return nil
		}
		extraCount++
		if len(extra) < limit {
			extra = append(extra, locatedRow{h, copyRow(row)})
		}
		return nil
	}, nil); err != nil {
		return fmt.Errorf("candidate: %w", err)
	}
	if d.Ordered && d.FirstOrderDiff < 0 && candRows != baseRows {
		d.FirstOrderDiff = min(candRows, baseRows)
	}

	var missingCount int64
	for _, n := range counts {
		missingCount += int64(n)
	}
	var missing []locatedRow
	var orderBase []*string
	if missingCount > 0 || d.FirstOrderDiff >= 0 {
		var pos int64
		if _, _, err := a.Run(ctx, c.tagged(cs.Baseline, "locate"), c.cfg.Timeout, func(row []sql.RawBytes) error {
			h := rh.Hash(row)
			if pos == d.FirstOrderDiff {
				orderBase = copyRow(row)
			}
			pos++
			if counts[h] > 0 {
				counts[h]--
				if len(missing) < limit {
					missing = append(missing, locatedRow{h, copyRow(row)})
				}
			}
			return nil
		}, nil); err != nil {
			return fmt.Errorf("baseline (second pass): %w", err)
		}
	}
	d.Unstable = baseRows != d.BaselineRows || candRows != d.CandidateRows
	d.BaselineRows, d.CandidateRows = baseRows, candRows
	d.Truncated = extraCount > int64(len(extra)) || missingCount > int64(len(missing))

	// Rows that differ only within the float tolerance (their quantised hashes fell on two
	// sides of a rounding boundary) are equal.
	kinds := rh.kinds
	for i := 0; i < len(missing); i++ {
		j := slices.IndexFunc(extra, func(e locatedRow) bool { return rowsEquivalent(missing[i].row, e.row, kinds, tol) })
		if j < 0 {
			continue
		}
		missing = slices.Delete(missing, i, i+1)
		extra = slices.Delete(extra, j, j+1)
		missingCount--
		extraCount--
		i--
	}

	// Pair what is left by first column: the same key with other values is a changed row.
	var examples []RowExample
	used := make([]bool, len(extra))
	paired := make([]bool, len(missing))
	for i, m := range missing {
		j := -1
		for k, e := range extra {
			if !used[k] && len(m.row) > 0 && len(e.row) > 0 && sameValue(m.row[0], e.row[0]) {
				j = k
				break
			}
		}
		if j < 0 {
			continue
		}
		used[j], paired[i] = true, true
		d.Changed++
		examples = append(examples, RowExample{Kind: "changed", Baseline: m.row, Candidate: extra[j].row})
	}
	d.Missing = missingCount - d.Changed
	d.Extra = extraCount - d.Changed
	// Then missing and extra rows taken in turn, so a few examples show both kinds.
	var lone [2][]RowExample
	for i, m := range missing {
		if !paired[i] {
			lone[0] = append(lone[0], RowExample{Kind: "missing", Baseline: m.row})
		}
	}
	for k, e := range extra {
		if !used[k] {
			lone[1] = append(lone[1], RowExample{Kind: "extra", Candidate: e.row})
		}
	}
	for i := 0; i < max(len(lone[0]), len(lone[1])); i++ {
		for _, l := range lone {
			if i < len(l) {
				examples = append(examples, l[i])
			}
		}
	}
	d.OtherOrder = d.Ordered && d.Missing == 0 && d.Extra == 0 && d.Changed == 0 && d.FirstOrderDiff >= 0
	if d.OtherOrder {
		examples = append(examples, RowExample{Kind: "order", Position: d.FirstOrderDiff + 1, Baseline: orderBase, Candidate: orderCand})
	}
	if len(examples) > c.cfg.MaxExamples {
		examples = examples[:c.cfg.MaxExamples]
	}
	d.Examples = examples
	return nil
}

func sameValue(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
