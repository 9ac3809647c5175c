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
    /// `text`, `template` or `tagged`.
    public var contentKind: String
    public var text: String?
    public var status: DeliveryStatus
    public var failureReason: String?
    public var providerErrorCode: String?
    public var providerErrorText: String?
    public var providerMessageId: String?
    public var providerTimestamp: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, contactId: Int64, conversationId: Int64?, channelId: Int64, identityId: Int64, direction: MessageDirection,
        senderKind: SenderKind, senderUserId: Int64?, contentKind: String, text: String?, status: DeliveryStatus,
        failureReason: String?, providerErrorCode: String?, providerErrorText: String?, providerMessageId: String?,
        providerTimestamp: Date?, createdAt: Date, updatedAt: Date
    ) {
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
