package store

// DSN is the modernc connection string Open uses for the writer connection
// (the same pragmas and immediate transactions). The benchmark's baseline
// opens its own database with it so that both run on equal terms.
func DSN(path string) string { return dsn(path, false) }
