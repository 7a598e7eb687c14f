package target

// ValidID reports whether id is a well-formed target id (as targets.yaml
// requires): for checking ids that come from outside, such as a URL.
func ValidID(id string) bool {
	return len(id) <= maxFieldLen && idRe.MatchString(id)
}
