package appid

import "strings"

// claimAt returns the value at path in claims. A path names a top-level claim ("roles", "cognito:groups",
// "https://example.com/roles"), or descends through nested objects with dots ("realm_access.roles",
// "resource_access.my-app.roles"). A name that holds dots is found as it is before the dots split it; of
// several ways to split, the longest names come first.
func claimAt(claims map[string]any, path string) (any, bool) {
	if v, ok := claims[path]; ok {
		return v, true
	}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != '.' {
			continue
		}
		inner, ok := claims[path[:i]].(map[string]any)
		if !ok {
			continue
		}
		if v, ok := claimAt(inner, path[i+1:]); ok {
			return v, true
		}
	}
	return nil, false
}

// claimStrings returns the strings a claim value holds: a string as one value (or, when split, its
// space-separated words, as OAuth writes scopes), a JSON array's strings; other values hold none.
func claimStrings(v any, split bool) []string {
	switch v := v.(type) {
	case string:
		if split {
			return strings.Fields(v)
		}
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}
