import Foundation

/// A tenant: everything else belongs to exactly one workspace.
public struct Workspace: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var settings: WorkspaceSettings
    public var createdAt: Date

    public init(id: Int64, name: String, settings: WorkspaceSettings, createdAt: Date) {
        self.id = id
        self.name = name
        self.settings = settings
        self.createdAt = createdAt
    }
}

/// A person who works the inbox.
public struct User: Codable, Sendable, Equatable {
    public var id: Int64
    public var workspaceId: Int64
    public var email: String
    public var name: String
    public var role: Role
    public var createdAt: Date
    public var disabled: Bool

    public init(id: Int64, workspaceId: Int64, email: String, name: String, role: Role, createdAt: Date, disabled: Bool) {
        self.id = id
        self.workspaceId = workspaceId
        self.email = email
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.disabled = disabled
    }
}

/// What a bearer token was issued for: an interactive login, or an integration.
public enum TokenKind: String, Codable, Sendable {
    case session
    case api
}

/// A bearer token's public description. The token itself is shown once, at creation.
public struct APIToken: Codable, Sendable, Equatable {
    public var id: Int64
    public var userId: Int64
    public var kind: TokenKind
    public var name: String
    /// The first characters of the token, so a user can tell tokens apart.
    public var prefix: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var expiresAt: Date?

    public init(id: Int64, userId: Int64, kind: TokenKind, name: String, prefix: String, createdAt: Date, lastUsedAt: Date?, expiresAt: Date?) {
        self.id = id
        self.userId = userId
        self.kind = kind
        self.name = name
        self.prefix = prefix
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
    }
}

/// A connected account of one channel kind. Credentials are held by the store and never
/// appear on this type.
public struct Channel: Codable, Sendable, Equatable {
    public var id: Int64
    public var workspaceId: Int64
    public var kind: ChannelKind
    public var name: String
    public var apiBaseUrl: String?
    /// The names of the credential fields that are set; their values are never exposed.
    public var credentialKeys: [String]
    public var viberMonth: String?
    public var viberMonthCount: Int64
    public var commercialTermsAccepted: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, workspaceId: Int64, kind: ChannelKind, name: String, apiBaseUrl: String?,
        credentialKeys: [String], viberMonth: String?, viberMonthCount: Int64,
        commercialTermsAccepted: Bool, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.workspaceId = workspaceId
        self.kind = kind
        self.name = name
        self.apiBaseUrl = apiBaseUrl
        self.credentialKeys = credentialKeys
        self.viberMonth = viberMonth
        self.viberMonthCount = viberMonthCount
        self.commercialTermsAccepted = commercialTermsAccepted
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Something that happened, in the order it happened. Realtime updates, workflows and
/// outgoing webhooks all read events.
public struct Event: Codable, Sendable, Equatable {
    public var id: Int64
    public var workspaceId: Int64
    public var type: EventType
    public var subjectId: Int64?
    public var actorUserId: Int64?
    public var payload: String
    public var createdAt: Date

    public init(id: Int64, workspaceId: Int64, type: EventType, subjectId: Int64?, actorUserId: Int64?, payload: String, createdAt: Date) {
        self.id = id
        self.workspaceId = workspaceId
        self.type = type
        self.subjectId = subjectId
        self.actorUserId = actorUserId
        self.payload = payload
        self.createdAt = createdAt
    }
}

/// The kinds of change that produce an event.
public enum EventType: String, Codable, Sendable, CaseIterable {
    case workspaceCreated = "workspace.created"
    case workspaceSettingsUpdated = "workspace.settings_updated"
    case userCreated = "user.created"
    case channelCreated = "channel.created"
    case channelUpdated = "channel.updated"
    case channelDeleted = "channel.deleted"
    case contactCreated = "contact.created"
    case contactUpdated = "contact.updated"
    case contactDeleted = "contact.deleted"
    case conversationOpened = "conversation.opened"
    case conversationClosed = "conversation.closed"
    case conversationAssigned = "conversation.assigned"
    case conversationRead = "conversation.read"
    case conversationUnread = "conversation.unread"
    case messageCreated = "message.created"
    case messageUpdated = "message.updated"
    /// A notification for one user (a window about to close); only that user receives it.
    case notificationCreated = "notification.created"
}
