import Foundation

/// A message in a contact's timeline.
public struct Message: Codable, Sendable, Equatable {
    public var id: Int64
    public var contactId: Int64
    public var conversationId: Int64?
    public var channelId: Int64
    public var identityId: Int64
    public var direction: MessageDirection
    public var senderKind: SenderKind
    public var senderUserId: Int64?
    /// Outbound: `text`, `template` or `tagged`. Inbound: `text`, or the kind of content the
    /// contact sent (`button`, `location`, `sticker`, …), whose `text` is then the readable part
    /// or a placeholder such as "[sticker]".
    public var contentKind: String
    /// Nil once the contact withdrew the message (see ``deletedAt``).
    public var text: String?
    /// The content's structured facts (a button's payload, coordinates, a media id).
    public var details: [String: String]?
    /// When the contact last edited the message (provider time).
    public var editedAt: Date?
    /// When the contact withdrew (unsent) the message (provider time).
    public var deletedAt: Date?
    /// Files sent with the message.
    public var attachments: [Attachment]?
    public var status: DeliveryStatus
    public var failureReason: String?
    public var providerErrorCode: String?
    public var providerErrorText: String?
    public var providerMessageId: String?
    public var providerTimestamp: Date?
    public var createdAt: Date
    public var updatedAt: Date
    /// A queued message: when its author wrote it (`createdAt` becomes the time it was sent).
    public var queuedAt: Date?
    /// A queued message: when it is given up if the contact has not written by then.
    public var queueExpiresAt: Date?

    public init(
        id: Int64, contactId: Int64, conversationId: Int64?, channelId: Int64, identityId: Int64, direction: MessageDirection,
        senderKind: SenderKind, senderUserId: Int64?, contentKind: String, text: String?, status: DeliveryStatus,
        failureReason: String?, providerErrorCode: String?, providerErrorText: String?, providerMessageId: String?,
        providerTimestamp: Date?, createdAt: Date, updatedAt: Date, details: [String: String]? = nil, editedAt: Date? = nil, deletedAt: Date? = nil,
        queuedAt: Date? = nil, queueExpiresAt: Date? = nil
    ) {
        self.queuedAt = queuedAt
        self.queueExpiresAt = queueExpiresAt
        self.details = details
        self.editedAt = editedAt
        self.deletedAt = deletedAt
        self.id = id
        self.contactId = contactId
        self.conversationId = conversationId
        self.channelId = channelId
        self.identityId = identityId
        self.direction = direction
        self.senderKind = senderKind
        self.senderUserId = senderUserId
        self.contentKind = contentKind
        self.text = text
        self.status = status
        self.failureReason = failureReason
        self.providerErrorCode = providerErrorCode
        self.providerErrorText = providerErrorText
        self.providerMessageId = providerMessageId
        self.providerTimestamp = providerTimestamp
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
