import Foundation
import ParleyCore
import SQLKit

/// Messages an agent queued while the window forbade sending: kept as `scheduled` rows in the
/// timeline, released by the contact's next inbound message on that identity (in the same
/// transaction that records it, so exactly once however many instances run), edited or
/// cancelled by their author, and given up at their expiry.
public struct QueuedMessages: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    /// Stores a message as `scheduled`; nothing is sent and no conversation changes.
    static func queue(on db: any SQLDatabase, request: OutboundRequest, identityId: Int64, prepared: PreparedContent, until: Date,
                      at now: Date) async throws -> OutboundResult {
        var instructions = prepared.instructions
        if !prepared.files.isEmpty { instructions.attachments = prepared.files.map(\.attachment.id) }
        let content = String(decoding: try JSONEncoder.store.encode(instructions), as: UTF8.self)
        let latest = try await db.raw("""
            SELECT \(unsafeRaw: ConversationRepository.columns) FROM conversations
            WHERE contact_id = \(bind: request.contactId) AND is_latest = \(bind: true)
            """).first().map(ConversationRepository.decode)
        let inserted = try await db.raw("""
            INSERT INTO messages (workspace_id, contact_id, conversation_id, channel_id, identity_id, direction, sender_kind, sender_user_id,
                                  content_kind, text, content, status, queued_at, queue_expires_at, created_at, updated_at)
            VALUES (\(bind: request.workspaceId), \(bind: request.contactId), \(bind: latest?.id), \(bind: request.channelId), \(bind: identityId),
                    'outbound', \(bind: request.sender.rawValue), \(bind: request.senderUserId), \(bind: prepared.contentKind), \(bind: instructions.text),
                    \(bind: content), 'scheduled', \(bind: now.epochMilliseconds), \(bind: until.epochMilliseconds),
                    \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
            RETURNING \(unsafeRaw: TimelineRepository.messageColumns)
            """).first()
        let message = try await AttachmentRepository.attach(on: db, files: prepared.files, to: try MessageRows.decode(try inserted.required("message")),
                                                            workspaceId: request.workspaceId, userId: request.senderUserId)
        try await EventLog.append(on: db, workspaceId: request.workspaceId, type: .messageCreated, subjectId: message.id, actorUserId: request.senderUserId,
                                  payload: ["messageId": message.id, "contactId": request.contactId], at: now)
        return OutboundResult(message: message, conversation: latest, plan: nil)
    }

    /// Releases the identity's queued messages, oldest first, after the contact's message moved
    /// its window: each is decided again under the policy as it stands now and then sent like a
    /// new message from its author (reopening and assigning per SPEC §4), or marked failed with
    /// the policy's reason. The caller holds the contact lock, inside the inbound transaction.
    static func release(on db: any SQLDatabase, workspaceId: Int64, contactId: Int64, identityId: Int64, at now: Date) async throws {
        let rows = try await db.raw("""
            SELECT \(unsafeRaw: TimelineRepository.messageColumns) FROM messages
            WHERE identity_id = \(bind: identityId) AND status = 'scheduled' AND queue_expires_at > \(bind: now.epochMilliseconds)
            ORDER BY id
            """).all()
        guard !rows.isEmpty else { return }
        let files = try await AttachmentRepository.forMessages(on: db, ids: try rows.map { try $0.decode(column: "id", as: Int64.self) })
        for row in rows {
            let message = try MessageRows.decode(row)
            let json = try row.decode(column: "content", as: String.self)
            let instructions = try StoredJSON.decode(DeliveryInstructions.self, from: json, column: "messages.content", id: message.id)
            let requested: RequestedContent
            switch message.contentKind {
            case "template": requested = .template
            case "tagged": requested = instructions.tag.map(RequestedContent.tagged) ?? .text
            default: requested = .text
            }
            let sender = message.senderKind
            let thread = try await OutboundSender.thread(on: db, contactId: contactId, channelId: message.channelId, workspaceId: workspaceId,
                                                         lockCounters: nil, sender: sender, at: now)
            var input = thread.input
            input.content = requested
            var request = OutboundRequest(workspaceId: workspaceId, contactId: contactId, channelId: message.channelId, sender: sender,
                                          senderUserId: message.senderUserId, content: .text(instructions.text))
            request.subject = instructions.subject
            switch WindowPolicy.decide(input) {
            case .allowed(let plan):
                let prepared = PreparedContent(instructions: instructions, requested: requested, contentKind: message.contentKind,
                                               files: files[message.id] ?? [])
                _ = try await OutboundPlacement.place(on: db, request: request, identityId: thread.identityId, prepared: prepared, plan: plan,
                                                      queuedMessageId: message.id, at: now)
            case .refused(let refusal):
                try await finish(on: db, workspaceId: workspaceId, messageId: message.id, status: .failed, reason: refusal.code.rawValue, at: now)
            }
        }
    }

    /// Moves a queued message to a final status (failed, cancelled, expired) with an event.
    static func finish(on db: any SQLDatabase, workspaceId: Int64, messageId: Int64, status: DeliveryStatus, reason: String?,
                       at now: Date) async throws {
        try await db.raw("""
            UPDATE messages SET status = \(bind: status.rawValue), failure_reason = \(bind: reason), updated_at = \(bind: now.epochMilliseconds)
            WHERE id = \(bind: messageId) AND status = 'scheduled'
            """).run()
        try await EventLog.append(on: db, workspaceId: workspaceId, type: .messageUpdated, subjectId: messageId, payload: ["messageId": messageId], at: now)
    }

    /// Changes a queued message's text and/or expiry. Only its author may, and only while it is
    /// queued; anything else is `OutboundError.notQueued`.
    public func edit(messageId: Int64, workspaceId: Int64, userId: Int64, text: String?, expiresAt: Date?, at now: Date) async throws -> Message {
        try await database.transaction { db in
            let row = try await Self.ownQueued(on: db, messageId: messageId, workspaceId: workspaceId, userId: userId)
            var instructions = try StoredJSON.decode(DeliveryInstructions.self, from: try row.decode(column: "content", as: String.self),
                                                     column: "messages.content", id: messageId)
            let kind = try row.decode(column: "content_kind", as: String.self)
            if let text {
                guard kind != "template" else { throw OutboundError.invalidEdit("a queued template's text cannot be edited; cancel it and queue another") }
                instructions.text = text
            }
            let content = String(decoding: try JSONEncoder.store.encode(instructions), as: UTF8.self)
            let updated = try await db.raw("""
                UPDATE messages SET text = \(bind: instructions.text), content = \(bind: content),
                    queue_expires_at = COALESCE(\(bind: expiresAt?.epochMilliseconds), queue_expires_at), updated_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: messageId) AND status = 'scheduled'
                RETURNING \(unsafeRaw: TimelineRepository.messageColumns)
                """).first()
            let message = try MessageRows.decode(try updated.required("message"))
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .messageUpdated, subjectId: messageId, actorUserId: userId,
                                      payload: ["messageId": messageId], at: now)
            return try await MessageRows.withAttachments(on: db, [message]).first.required("message")
        }
    }

    /// Withdraws a queued message: it stays in the timeline as `cancelled` and is never sent.
    public func cancel(messageId: Int64, workspaceId: Int64, userId: Int64, at now: Date) async throws -> Message {
        try await database.transaction { db in
            _ = try await Self.ownQueued(on: db, messageId: messageId, workspaceId: workspaceId, userId: userId)
            try await Self.finish(on: db, workspaceId: workspaceId, messageId: messageId, status: .cancelled, reason: nil, at: now)
            let row = try await db.raw("SELECT \(unsafeRaw: TimelineRepository.messageColumns) FROM messages WHERE id = \(bind: messageId)").first()
            return try await MessageRows.withAttachments(on: db, [try MessageRows.decode(try row.required("message"))]).first.required("message")
        }
    }

    /// Marks queued messages whose time ran out as `expired`; returns how many.
    public func expireDue(limit: Int, at now: Date) async throws -> Int {
        try await database.transaction { db in
            let due = try await db.raw("""
                SELECT id, workspace_id FROM messages
                WHERE status = 'scheduled' AND queue_expires_at <= \(bind: now.epochMilliseconds)
                ORDER BY queue_expires_at LIMIT \(bind: limit)
                """).all()
            for row in due {
                try await Self.finish(on: db, workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
                                      messageId: try row.decode(column: "id", as: Int64.self), status: .expired, reason: "queue_expired", at: now)
            }
            return due.count
        }
    }

    private static func ownQueued(on db: any SQLDatabase, messageId: Int64, workspaceId: Int64, userId: Int64) async throws -> any SQLRow {
        guard let row = try await db.raw("""
            SELECT content, content_kind, status, sender_user_id FROM messages WHERE id = \(bind: messageId) AND workspace_id = \(bind: workspaceId)
            """).first() else { throw StoreError.notFound("message") }
        guard try row.decode(column: "status", as: String.self) == DeliveryStatus.scheduled.rawValue,
              try row.decode(column: "sender_user_id", as: Int64?.self) == userId else { throw OutboundError.notQueued }
        return row
    }
}
