package volley

import "strings"

// MaxSlugLen bounds slugs, in bytes.
const MaxSlugLen = 64

// Slugify derives a slug from a name: lower-case ASCII letters and digits,
// every run of other characters collapsed to one "-", no leading or trailing
// "-", at most MaxSlugLen bytes. It returns "" when nothing usable is left
// (a name written only in non-Latin script, say); callers pick a fallback.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r == '\'' || r == '’' {
			continue // "Admin's" → "admins", not "admin-s"
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			if b.Len() >= MaxSlugLen {
				break
			}
			continue
		}
		dash = true
	}
	return strings.TrimRight(b.String(), "-")
}

// ValidateSlug checks a slug given explicitly by a client.
func ValidateSlug(field, slug string) error {
	if slug == "" {
		return Invalid(field, "is required")
	}
	if len(slug) > MaxSlugLen {
		return Invalid(field, "must be at most %d characters", MaxSlugLen)
	}
	for i, r := range slug {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0 && i < len(slug)-1
		if !ok {
			return Invalid(field, "%q may contain only lower-case letters, digits and inner dashes", slug)
		}
	}
	return nil
}
