import Foundation
import ParleyCore
import SQLKit

/// A message a contact sent, as a channel adapter parsed it.
public struct InboundMessage: Sendable {
    public var channelId: Int64
    /// The sender's address on the channel (wa_id, PSID, chat id, email address, …).
    public var externalId: String
    /// Another address of the same sender (WhatsApp's business-scoped user id next to the phone
    /// number): a message carrying either finds the same identity.
    public var aliasId: String?
    public var displayName: String?
    /// The sender's phone number in E.164 when the address is one; fills the contact's empty phone.
    public var phone: String?
    /// The provider's id of the message; a second delivery of the same id is ignored.
    public var providerMessageId: String
    /// The provider's timestamp of the message: the messaging window opens here.
    public var providerTimestamp: Date
    /// The customer's content as text, never empty (a placeholder such as "[sticker]" when it has none).
    public var text: String
    /// "text", or the kind of content ("button", "location", "sticker", …).
    public var contentKind: String
    /// The content's structured facts as a JSON object.
    public var content: String?
    /// Contact fields to fill when the contact is new.
    public var profile: ContactFields
    /// The provider can tell the sender's name when the message does not: a new nameless
    /// identity is marked for a profile lookup.
    public var profileLookup: Bool
    /// False for automatic messages (auto-replies): kept in the timeline, but they open no
    /// conversation and change no inbox row.
    public var opensConversation = true
    /// Files the message named, downloaded later by the media worker.
    public var media: [MediaSource] = []
    /// Files the sender uploaded first (a website visitor), tied to the message as it is stored.
    public var uploads: [Int64] = []
    /// Files that came inside the message (an email's parts), already in the blob store or
    /// refused: recorded with the message, in its transaction.
    public var received: [ReceivedFile] = []

    public init(channelId: Int64, externalId: String, aliasId: String? = nil, displayName: String?, phone: String? = nil,
                providerMessageId: String, providerTimestamp: Date, text: String, contentKind: String = "text", content: String? = nil,
                profile: ContactFields = ContactFields(), profileLookup: Bool = false, media: [MediaSource] = []) {
        self.media = media
        self.channelId = channelId
        self.externalId = externalId
        self.aliasId = aliasId
        self.displayName = displayName
        self.phone = phone
        self.providerMessageId = providerMessageId
        self.providerTimestamp = providerTimestamp
        self.text = text
        self.contentKind = contentKind
        self.content = content
        self.profile = profile
        self.profileLookup = profileLookup
    }
}

/// What recording an inbound message did.
public struct InboundResult: Sendable, Equatable {
    public let messageId: Int64
    public let contactId: Int64
    public let conversationId: Int64
    /// False when the provider delivered this message before: nothing was changed.
    public let stored: Bool
    /// True when the message opened a new conversation episode.
    public let openedConversation: Bool
}

/// Stores inbound messages: finds or creates the contact and identity, moves the thread state
/// forward, opens a conversation if none is open, and updates the inbox row — in one
/// transaction, idempotent on the provider's message id.
public struct InboundRecorder: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    public static let previewLength = 140

    public func record(_ message: InboundMessage, workspaceId: Int64, receivedAt now: Date) async throws -> InboundResult {
        // Concurrent deliveries of the same message or from the same new sender race on unique
        // indexes; the loser rolls back and runs again, now finding what the winner wrote.
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await recordOnce(message, workspaceId: workspaceId, receivedAt: now)
            } catch is DuplicateDelivery {
                // Delivered before: report what the first delivery stored.
                let existing = try await database.read { db in
                    try await Self.existing(on: db, channelId: message.channelId, providerMessageId: message.providerMessageId)
                }
                return try existing.required("message")
            } catch let error where attempt < 3 && database.isUniqueViolation(error) {
                continue
            }
        }
    }

    private func recordOnce(_ message: InboundMessage, workspaceId: Int64, receivedAt now: Date) async throws -> InboundResult {
        let facts = database.facts
        return try await database.transaction { db in
            // The sender's identity and, in the same read, their open conversation if any (on
            // PostgreSQL the read also locks the contact against other writers to it).
            var sender = try await InboundIdentities.find(on: db, facts: facts, workspaceId: workspaceId, message: message, at: now)
            if sender == nil {
                sender = try await Self.createIdentity(on: db, workspaceId: workspaceId, message: message, at: now)
            }
            guard var sender else { throw StoreError.notFound("identity") }
            if !facts.forUpdate.isEmpty && !sender.isNew {
                (sender.openConversationId, sender.hasQueued) = try await InboundIdentities.afterLock(on: db, contactId: sender.contactId,
                                                                                                     identityId: sender.identityId)
            }
            let (contactId, identityId) = (sender.contactId, sender.identityId)
            var conversationId = sender.openConversationId
            var openedConversation = false
            if conversationId == nil && message.opensConversation {
                // Opened before the message is stored, so the message is written once, with its
                // conversation. A replay rolls all of it back below.
                let opened = try await ConversationRepository.openIfNeeded(
                    on: db, workspaceId: workspaceId, contactId: contactId, channelId: message.channelId, identityId: identityId, openedBy: nil,
                    firstForContact: sender.isNew, at: now
                )
                conversationId = opened.id
                openedConversation = opened.created
            }
            let timestamp = message.providerTimestamp.epochMilliseconds
            // The provider's unique message id turns a replay into a no-op: the transaction rolls back.
            let inserted = try await db.raw("""
                INSERT INTO messages (workspace_id, contact_id, conversation_id, channel_id, identity_id, direction, sender_kind, content_kind,
                                      text, content, status, provider_message_id, provider_timestamp, created_at, updated_at)
                VALUES (\(bind: workspaceId), \(bind: contactId), \(bind: conversationId), \(bind: message.channelId), \(bind: identityId), 'inbound', 'contact',
                        \(bind: message.contentKind), \(bind: message.text), \(bind: message.content), 'received', \(bind: message.providerMessageId), \(bind: timestamp), \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
                ON CONFLICT (channel_id, provider_message_id) DO NOTHING
                RETURNING id
                """).first()
            guard let messageId = try inserted?.decode(column: "id", as: Int64.self) else {
                // The same message was stored before (a replay, or a concurrent delivery that won).
                throw DuplicateDelivery()
            }
            if !message.uploads.isEmpty {
                try await AttachmentRepository.link(on: db, ids: message.uploads, messageId: messageId, workspaceId: workspaceId,
                                                    userId: nil, visitor: message.externalId)
            }
            for file in message.received {
                try await AttachmentRepository.insertReceived(on: db, workspaceId: workspaceId, messageId: messageId, channelId: message.channelId,
                                                              file: file, at: now)
            }
            if !message.media.isEmpty {
                try await AttachmentRepository.insertPending(on: db, workspaceId: workspaceId, messageId: messageId, channelId: message.channelId,
                                                             media: message.media, at: now)
            }
            // The window opens at the newest inbound message: a late or replayed older one
            // never moves it back, and only the newest resets the outbound count.
            try await db.raw("""
                UPDATE contact_identities SET
                    outbound_since_inbound = CASE WHEN last_inbound_at IS NULL OR last_inbound_at <= \(bind: timestamp) THEN 0 ELSE outbound_since_inbound END,
                    last_inbound_at = CASE WHEN last_inbound_at IS NULL OR last_inbound_at < \(bind: timestamp) THEN \(bind: timestamp) ELSE last_inbound_at END,
                    display_name = COALESCE(\(bind: message.displayName), display_name)
                WHERE id = \(bind: identityId)
                """).run()
            guard let conversation = conversationId else {
                // An automatic message with no conversation open: kept in the timeline only.
                try await EventLog.append(on: db, workspaceId: workspaceId, type: .messageCreated, subjectId: messageId,
                                          payload: ["messageId": messageId, "contactId": contactId], at: now)
                return InboundResult(messageId: messageId, contactId: contactId, conversationId: 0, stored: true, openedConversation: false)
            }
            try await db.raw("""
                UPDATE conversations SET last_activity_at = \(bind: now.epochMilliseconds), last_message_id = \(bind: messageId),
                    last_message_preview = \(bind: String(message.text.prefix(Self.previewLength))),
                    waiting_since = COALESCE(waiting_since, \(bind: now.epochMilliseconds)), unread_count = unread_count + 1,
                    channel_id = \(bind: message.channelId), identity_id = \(bind: identityId)
                WHERE id = \(bind: conversation)
                """).run()
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .messageCreated, subjectId: messageId,
                                      payload: ["messageId": messageId, "contactId": contactId, "conversationId": conversation], at: now)
            if sender.hasQueued {
                // The contact wrote: what agents queued for this identity goes now, in this
                // transaction (so once), before anything that reacts to this message after it commits.
                try await QueuedMessages.release(on: db, workspaceId: workspaceId, contactId: contactId, identityId: identityId, at: now)
            }
            return InboundResult(messageId: messageId, contactId: contactId, conversationId: conversation, stored: true, openedConversation: openedConversation)
        }
    }

    struct DuplicateDelivery: Error {}

    static func existing(on db: any SQLDatabase, channelId: Int64, providerMessageId: String) async throws -> InboundResult? {
        guard let row = try await db.raw("""
            SELECT id, contact_id, conversation_id FROM messages WHERE channel_id = \(bind: channelId) AND provider_message_id = \(bind: providerMessageId)
            """).first() else { return nil }
        return InboundResult(
            messageId: try row.decode(column: "id", as: Int64.self),
            contactId: try row.decode(column: "contact_id", as: Int64.self),
            conversationId: try row.decode(column: "conversation_id", as: Int64?.self) ?? 0,
            stored: false, openedConversation: false
        )
    }

    /// A new contact and identity for a first-time sender on a channel of this workspace.
    static func createIdentity(on db: any SQLDatabase, workspaceId: Int64, message: InboundMessage, at now: Date) async throws -> InboundSender {
        guard try await db.raw("SELECT id FROM channels WHERE id = \(bind: message.channelId) AND workspace_id = \(bind: workspaceId)").first() != nil else {
            throw StoreError.notFound("channel")
        }
        var profile = message.profile
        if profile.firstName == nil, profile.lastName == nil, let name = message.displayName {
            (profile.firstName, profile.lastName) = InboundIdentities.split(name)
        }
        if profile.phone == nil, let phone = message.phone {
            profile.phone = .some(phone)
        }
        let contactId = try await ContactRepository.insert(on: db, workspaceId: workspaceId, fields: profile, at: now)
        try await EventLog.append(on: db, workspaceId: workspaceId, type: .contactCreated, subjectId: contactId, payload: ["contactId": contactId], at: now)
        let identityId = try await ContactRepository.insertIdentity(on: db, workspaceId: workspaceId, contactId: contactId, channelId: message.channelId,
                                                                    externalId: message.externalId, displayName: message.displayName, at: now)
        // The sender's second address, searchable phone digits, and a profile lookup when nameless.
        let lookup: Int64? = message.profileLookup && message.displayName == nil ? now.epochMilliseconds : nil
        try await db.raw("""
            UPDATE contact_identities SET alias_id = \(bind: message.aliasId), phone_digits = \(bind: message.phone.map(SearchNormalization.digits)),
                profile_due_at = \(bind: lookup)
            WHERE id = \(bind: identityId)
            """).run()
        return InboundSender(contactId: contactId, identityId: identityId, openConversationId: nil, isNew: true, hasQueued: false)
    }
}
