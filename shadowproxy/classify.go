package shadowproxy

import "github.com/srctl/srctl/analyze/sqlclass"

// Kind is what a statement does, as far as mirroring is concerned (see package sqlclass: the
// same classification guards compare-baseline).
type Kind = sqlclass.Kind

const (
	KindRead        = sqlclass.Read        // mirrored by default
	KindState       = sqlclass.State       // session state: always mirrored, so the shadow session stays the client's
	KindWrite       = sqlclass.Write       // mirrored only with --mirror-writes
	KindUnknown     = sqlclass.Unknown     // not understood: mirrored only with --mirror-writes, else counted as unclassified
	KindLocalInfile = sqlclass.LocalInfile // LOAD DATA LOCAL: never mirrored (the file comes from the client, once)
)

// statementTypes is the vocabulary of --include-types and --exclude-types.
var statementTypes = sqlclass.Types

// classify returns the type of the first statement of sql and the kind of the whole text.
func classify(sql string) (typ string, kind Kind) {
	c := sqlclass.Classify(sql)
	return c.Type, c.Kind
}

// useTarget is the database of a USE statement.
func useTarget(sql string) string { return sqlclass.UseTarget(sql) }
