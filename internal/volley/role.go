package volley

// Role is a member's role in an organization.
type Role string

// The roles, from most to least privileged.
const (
	// RoleOwner may do everything, including deleting the organization and
	// managing owners.
	RoleOwner Role = "owner"
	// RoleAdmin may do everything inside the organization except delete it or
	// change owners.
	RoleAdmin Role = "admin"
	// RoleMember may read everything, replay events and send test events, but
	// not create, change or delete configuration.
	RoleMember Role = "member"
)

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleOwner, RoleAdmin, RoleMember:
		return r, nil
	case "":
		return "", Invalid("role", "is required (owner, admin or member)")
	default:
		return "", Invalid("role", "must be owner, admin or member, not %q", s)
	}
}

// CanConfigure reports whether the role may create, change or delete
// projects, sources, destinations and connections.
func (r Role) CanConfigure() bool { return r == RoleOwner || r == RoleAdmin }

// CanManageMembers reports whether the role may add, change and remove
// members.
func (r Role) CanManageMembers() bool { return r == RoleOwner || r == RoleAdmin }
