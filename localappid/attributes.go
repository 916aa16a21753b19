package localappid

// Bounds of a user's custom attributes (the profiles API).
const (
	// MaxAttributes is how many custom attributes a user may hold.
	MaxAttributes = 100
	// MaxAttributeBytes bounds one attribute's value.
	MaxAttributeBytes = 16 << 10
	// maxAttributeNameLen bounds an attribute's name.
	maxAttributeNameLen = 128
)

// validAttributeName accepts 1-128 letters, digits, '.', '_' and '-'.
func validAttributeName(name string) bool {
	if len(name) == 0 || len(name) > maxAttributeNameLen {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}
