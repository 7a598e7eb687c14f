package store

// dialect is what the store's SQL spells differently on SQLite and
// PostgreSQL. A query that differs says so by calling it, and the same
// query gives the same rows on both; the PostgreSQL driver (postgres.go)
// changes nothing but the placeholders. What differs in more than
// spelling asks d.pg: the migrations, the erasure's checkpoint, the sign
// path's group of letters (writeGroupBulk), the leases' clock.
//
// Booleans are not a difference: the schema stores flags as integers on
// both, a Go bool goes in as intFlag's 0 or 1, and a query that yields a
// truth value spells it as an integer (CASE WHEN … THEN 1 ELSE 0 END),
// which scans into an int or a bool alike on both.
type dialect struct {
	pg bool // PostgreSQL
}

// like is a LIKE that ignores the case of ASCII letters: SQLite's LIKE
// does; PostgreSQL's ILIKE does (and the case of other letters too).
func (d dialect) like() string {
	if d.pg {
		return "ILIKE"
	}
	return "LIKE"
}

// randomID is an expression for a new random id of 24 lower-case hex
// digits (a message's public id).
func (d dialect) randomID() string {
	if d.pg {
		return "left(md5(gen_random_uuid()::text), 24)"
	}
	return "lower(hex(randomblob(12)))"
}

// indexedBy names table for a FROM clause, read through index on SQLite
// (INDEXED BY: the planner's statistics can pick another index after a
// bulk load). PostgreSQL's planner has no such hint and needs none here.
func (d dialect) indexedBy(table, index string) string {
	if d.pg {
		return table
	}
	return table + " INDEXED BY " + index
}

// noIndex is column with SQLite's unary + before it, which keeps SQLite's
// planner from using column's indexes for that term; PostgreSQL has no
// such hint and its planner chooses well here without one.
func (d dialect) noIndex(column string) string {
	if d.pg {
		return column
	}
	return "+" + column
}

// orderedJoin joins a table so that the table before it stays the outer
// loop: SQLite's CROSS JOIN keeps the tables' order (with ON, it is an
// inner join); PostgreSQL's JOIN lets its planner order them.
func (d dialect) orderedJoin() string {
	if d.pg {
		return "JOIN"
	}
	return "CROSS JOIN"
}

// intFlag is b as the 0 or 1 the schema's flag columns hold.
func intFlag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
