import Foundation
import ParleyCore
import SQLKit

/// A message's content once checked: the delivery instructions, what the window policy is
/// asked about, the timeline's content kind, and the files going with it.
struct PreparedContent: Sendable {
    var instructions: DeliveryInstructions
    var requested: RequestedContent
    var contentKind: String
    var files: [StoredAttachment] = []
}

/// The part of a send that follows an allowed decision, shared by a message sent now and a
/// queued message the contact's reply released: the plan's counters, the conversation reopened
/// and assigned (SPEC §4), the message stored (or the queued row moved on), its outbox row, the
/// identity's counters, the inbox row and the event. Runs inside the caller's transaction.
enum OutboundPlacement {
    static func place(on db: any SQLDatabase, request: OutboundRequest, identityId: Int64, prepared: PreparedContent, plan: SendPlan,
                      queuedMessageId: Int64?, at now: Date) async throws -> OutboundResult {
        var instructions = prepared.instructions
        var status = DeliveryStatus.pending
        var failureReason: String?
        switch plan {
        case .standard, .template:
            break
        case .meta(let messagingType, let tag):
            instructions.messagingType = messagingType
            instructions.tag = tag
        case .viberChatbotInitiated(let billable):
            instructions.viberChatbotInitiated = true
            instructions.billable = billable
            let month = WindowPolicy.utcMonth(now)
            try await db.raw("""
                UPDATE channels SET viber_month_count = CASE WHEN viber_month = \(bind: month) THEN viber_month_count + 1 ELSE 1 END,
                    viber_month = \(bind: month)
                WHERE id = \(bind: request.channelId)
                """).run()
        case .recordUndelivered(let reason):
            status = .undelivered
            failureReason = reason.rawValue
        }

        // The conversation: reopen if closed, then assign per SPEC §4.
        let latest = request.reopens ? nil : try await db.raw("""
            SELECT id FROM conversations WHERE contact_id = \(bind: request.contactId) AND is_latest = \(bind: true)
            """).first()?.decode(column: "id", as: Int64.self)
        var opened = (id: latest ?? 0, created: false)
        if latest == nil {
            opened = try await ConversationRepository.openIfNeeded(
                on: db, workspaceId: request.workspaceId, contactId: request.contactId, channelId: request.channelId,
                identityId: identityId, openedBy: request.senderUserId, at: now
            )
        }
        if let senderUserId = request.senderUserId, request.sender == .user,
           let open = try await ConversationRepository.find(on: db, id: opened.id), open.assigneeId == nil {
            try await ConversationRepository.setAssignee(on: db, workspaceId: request.workspaceId, conversation: open,
                                                         assigneeId: senderUserId, actorUserId: senderUserId, at: now)
        }

        let files = prepared.files
        if !files.isEmpty {
            instructions.attachments = files.map(\.attachment.id)
        }
        let content = String(decoding: try JSONEncoder.store.encode(instructions), as: UTF8.self)
        var message: Message
        if let queuedMessageId {
            // A queued message keeps its row; it takes its place in the timeline now, just after
            // the contact's message that released it (stored at `now` in the same transaction).
            let updated = try await db.raw("""
                UPDATE messages SET status = \(bind: status.rawValue), failure_reason = \(bind: failureReason), content = \(bind: content),
                    conversation_id = \(bind: opened.id), identity_id = \(bind: identityId), created_at = \(bind: now.epochMilliseconds + 1),
                    updated_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: queuedMessageId) AND status = 'scheduled'
                RETURNING \(unsafeRaw: TimelineRepository.messageColumns)
                """).first()
            message = try MessageRows.decode(try updated.required("queued message"))
            message.attachments = files.isEmpty ? nil : files.map(\.attachment)
        } else {
            let inserted = try await db.raw("""
                INSERT INTO messages (workspace_id, contact_id, conversation_id, channel_id, identity_id, direction, sender_kind, sender_user_id,
                                      content_kind, text, content, status, failure_reason, created_at, updated_at)
                VALUES (\(bind: request.workspaceId), \(bind: request.contactId), \(bind: opened.id), \(bind: request.channelId), \(bind: identityId),
                        'outbound', \(bind: request.sender.rawValue), \(bind: request.senderUserId), \(bind: prepared.contentKind), \(bind: instructions.text),
                        \(bind: content), \(bind: status.rawValue), \(bind: failureReason), \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
                RETURNING \(unsafeRaw: TimelineRepository.messageColumns)
                """).first()
            message = try await AttachmentRepository.attach(on: db, files: files, to: try MessageRows.decode(try inserted.required("message")),
                                                            workspaceId: request.workspaceId, userId: request.senderUserId)
        }
        if status == .pending {
            try await db.raw("""
                INSERT INTO outbox (workspace_id, message_id, channel_id, delivery, next_attempt_at, created_at)
                VALUES (\(bind: request.workspaceId), \(bind: message.id), \(bind: request.channelId), \(bind: content),
                        \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
                """).run()
            try await db.raw("""
                UPDATE contact_identities SET outbound_since_inbound = outbound_since_inbound + 1, last_outbound_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: identityId)
                """).run()
        }
        try await db.raw("""
            UPDATE conversations SET last_activity_at = \(bind: now.epochMilliseconds), last_message_id = \(bind: message.id),
                last_message_preview = \(bind: String(OutboundSender.preview(instructions.text, files: files).prefix(InboundRecorder.previewLength))), waiting_since = NULL,
                channel_id = \(bind: request.channelId), identity_id = \(bind: identityId)
            WHERE id = \(bind: opened.id)
            """).run()
        try await EventLog.append(on: db, workspaceId: request.workspaceId, type: queuedMessageId == nil ? .messageCreated : .messageUpdated,
                                  subjectId: message.id, actorUserId: request.senderUserId,
                                  payload: ["messageId": message.id, "contactId": request.contactId, "conversationId": opened.id], at: now)
        let conversation = try await ConversationRepository.find(on: db, id: opened.id).required("conversation")
        return OutboundResult(message: message, conversation: conversation, plan: plan)
    }
}
