/// A user's role within a workspace. Owners and managers administer; agents work the inbox.
public enum Role: String, Codable, Sendable, CaseIterable {
    case owner
    case manager
    case agent

    /// Whether this role may create users and change workspace settings.
    public var canAdminister: Bool { self != .agent }

    /// Whether a user with this role may create a user with `other`.
    /// Only an owner may create another owner.
    public func mayGrant(_ other: Role) -> Bool {
        switch self {
        case .owner: return true
        case .manager: return other != .owner
        case .agent: return false
        }
    }
}
