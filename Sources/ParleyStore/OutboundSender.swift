import Foundation
import ParleyCore
import SQLKit

/// What an agent or workflow asks to send.
public enum OutboundContent: Sendable, Equatable {
    case text(String)
    case template(name: String, language: String, parameters: [String])
    case tagged(text: String, tag: MessageTag)
}

public struct OutboundRequest: Sendable {
    public var workspaceId: Int64
    public var contactId: Int64
    public var channelId: Int64
    public var sender: SenderKind
    public var senderUserId: Int64?
    public var content: OutboundContent
    /// Email: a subject for this message (nil: the thread's).
    public var subject: String? = nil
    /// False for a workflow writing after a close (a CSAT question): the message joins the
    /// closed conversation instead of reopening it.
    public var reopens = true
    /// Files uploaded by the sender to go with the message (its text becomes their caption).
    public var attachmentIds: [Int64] = []

    public init(workspaceId: Int64, contactId: Int64, channelId: Int64, sender: SenderKind, senderUserId: Int64?, content: OutboundContent) {
        self.workspaceId = workspaceId
        self.contactId = contactId
        self.channelId = channelId
        self.sender = sender
        self.senderUserId = senderUserId
        self.content = content
    }
}

public struct OutboundResult: Sendable {
    public let message: Message
    public let conversation: Conversation
    public let plan: SendPlan
}

/// Why a send was not accepted. Nothing is stored for any of these.
public enum OutboundError: Error, Equatable, Sendable {
    case contactNotFound
    case unknownChannel
    case noIdentity(ChannelKind)
    case unknownTemplate(name: String, language: String)
    case templateNotApproved(TemplateStatus)
    case templateParameters(expected: Int, given: Int)
    case emptyTemplateParameter(index: Int)
    case refused(Refusal)
    /// An attachment that is not the sender's unsent upload, or that the channel cannot take.
    case attachment(String)
}

/// Accepts outbound messages: applies the window policy to fresh thread state and counters,
/// stores the message `pending` with its outbox row (or `undelivered` for WeChat outside its
/// window), updates the counters, and reopens and assigns the conversation — in one transaction.
/// The contact, identity and (for Viber) channel rows are locked first, so that concurrent
/// sends cannot both take the last allowed message.
public struct OutboundSender: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    public func send(_ request: OutboundRequest, at now: Date) async throws -> OutboundResult {
        let facts = database.facts
        return try await database.transaction { db in
            do {
                try await ConversationRepository.lockContact(on: db, facts: facts, contactId: request.contactId, workspaceId: request.workspaceId)
            } catch ConversationError.contactNotFound {
                throw OutboundError.contactNotFound
            }
            let thread = try await Self.thread(on: db, contactId: request.contactId, channelId: request.channelId, workspaceId: request.workspaceId,
                                               lockCounters: facts.forUpdate.isEmpty ? nil : facts.forUpdate, sender: request.sender, at: now)
            let kind = thread.input.channel
            let identityId = thread.identityId

            // What is being sent, with a template checked and rendered.
            var instructions: DeliveryInstructions
            let requested: RequestedContent
            let contentKind: String
            switch request.content {
            case .text(let text):
                instructions = DeliveryInstructions(text: text, subject: request.subject)
                requested = .text
                contentKind = "text"
            case .tagged(let text, let tag):
                instructions = DeliveryInstructions(text: text, tag: tag, subject: request.subject)
                requested = .tagged(tag)
                contentKind = "tagged"
            case .template(let name, let language, let parameters):
                requested = .template
                contentKind = "template"
                if kind == .whatsapp {
                    guard let template = try await TemplateRepository.find(on: db, channelId: request.channelId, name: name, language: language) else {
                        throw OutboundError.unknownTemplate(name: name, language: language)
                    }
                    guard template.status == .approved else { throw OutboundError.templateNotApproved(template.status) }
                    guard parameters.count == template.parameterCount else {
                        throw OutboundError.templateParameters(expected: template.parameterCount, given: parameters.count)
                    }
                    if let empty = parameters.firstIndex(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) {
                        throw OutboundError.emptyTemplateParameter(index: empty)
                    }
                    instructions = DeliveryInstructions(
                        text: TemplateBody.render(template.body, parameters: parameters),
                        template: .init(name: name, language: language, parameters: parameters)
                    )
                } else {
                    instructions = DeliveryInstructions(text: "")
                }
            }

            var input = thread.input
            input.content = requested
            let plan: SendPlan
            switch WindowPolicy.decide(input) {
            case .refused(let refusal): throw OutboundError.refused(refusal)
            case .allowed(let allowed): plan = allowed
            }

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

            let files = try await Self.checkedAttachments(on: db, request: request, channel: kind)
            if !files.isEmpty {
                instructions.attachments = files.map(\.attachment.id)
            }
            let content = String(decoding: try JSONEncoder.store.encode(instructions), as: UTF8.self)
            let inserted = try await db.raw("""
                INSERT INTO messages (workspace_id, contact_id, conversation_id, channel_id, identity_id, direction, sender_kind, sender_user_id,
                                      content_kind, text, content, status, failure_reason, created_at, updated_at)
                VALUES (\(bind: request.workspaceId), \(bind: request.contactId), \(bind: opened.id), \(bind: request.channelId), \(bind: identityId),
                        'outbound', \(bind: request.sender.rawValue), \(bind: request.senderUserId), \(bind: contentKind), \(bind: instructions.text),
                        \(bind: content), \(bind: status.rawValue), \(bind: failureReason), \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
                RETURNING \(unsafeRaw: TimelineRepository.messageColumns)
                """).first()
            var message = try MessageRows.decode(try inserted.required("message"))
            if !files.isEmpty {
                try await AttachmentRepository.link(on: db, ids: files.map(\.attachment.id), messageId: message.id, workspaceId: request.workspaceId,
                                                    userId: request.senderUserId, visitor: nil)
                message.attachments = files.map { file in
                    var attachment = file.attachment
                    attachment.messageId = message.id
                    return attachment
                }
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
                    last_message_preview = \(bind: String(Self.preview(instructions.text, files: files).prefix(InboundRecorder.previewLength))), waiting_since = NULL,
                    channel_id = \(bind: request.channelId), identity_id = \(bind: identityId)
                WHERE id = \(bind: opened.id)
                """).run()
            try await EventLog.append(on: db, workspaceId: request.workspaceId, type: .messageCreated, subjectId: message.id, actorUserId: request.senderUserId,
                                      payload: ["messageId": message.id, "contactId": request.contactId, "conversationId": opened.id], at: now)
            let conversation = try await ConversationRepository.find(on: db, id: opened.id).required("conversation")
            return OutboundResult(message: message, conversation: conversation, plan: plan)
        }
    }

    /// The request's uploads, each the sender's own and unsent, and each a kind and size the channel takes.
    static func checkedAttachments(on db: any SQLDatabase, request: OutboundRequest, channel: ChannelKind) async throws -> [StoredAttachment] {
        guard !request.attachmentIds.isEmpty else { return [] }
        guard request.attachmentIds.count == 1 else { throw OutboundError.attachment("send one attachment per message") }
        let template: Bool
        if case .template = request.content { template = true } else { template = false }
        var files: [StoredAttachment] = []
        for id in request.attachmentIds {
            guard let file = try await db.raw("SELECT \(unsafeRaw: AttachmentRepository.columns) FROM attachments WHERE id = \(bind: id) AND workspace_id = \(bind: request.workspaceId)")
                    .first().map(AttachmentRepository.decode),
                  file.attachment.messageId == nil, file.attachment.status == .stored, request.senderUserId != nil, file.uploadedBy == request.senderUserId else {
                throw OutboundError.attachment("attachment \(id) is not an unsent upload of yours")
            }
            if template {
                // WhatsApp's templates may have a media header: the file fills it (outside the 24 hours too).
                guard channel == .whatsapp, [.image, .video, .document].contains(file.attachment.kind) else {
                    throw OutboundError.attachment("only a WhatsApp template's header takes a file: an image, a video or a document")
                }
                files.append(file)
                continue
            }
            if let why = AttachmentLimits.outboundRefusal(channel: channel, kind: file.attachment.kind, size: file.attachment.size ?? 0) {
                throw OutboundError.attachment(why)
            }
            if !AttachmentLimits.takesCaption(channel: channel, kind: file.attachment.kind), !Self.text(of: request.content).isEmpty {
                throw OutboundError.attachment("\(channel.rawValue) sends \(file.attachment.kind.withArticle) without text: send the text as its own message")
            }
            files.append(file)
        }
        return files
    }

    static func text(of content: OutboundContent) -> String {
        switch content {
        case .text(let text), .tagged(let text, _): return text.trimmingCharacters(in: .whitespacesAndNewlines)
        case .template: return ""
        }
    }

    /// The inbox row's preview: the text, or the file's kind when it came alone.
    static func preview(_ text: String, files: [StoredAttachment]) -> String {
        guard text.isEmpty, let first = files.first else { return text }
        return "[\(first.attachment.kind.rawValue)] \(first.attachment.fileName)"
    }

    /// The composer's view of a contact on a channel, from the same thread state and counters.
    public func composer(contactId: Int64, channelId: Int64, workspaceId: Int64, sender: SenderKind, at now: Date) async throws -> ComposerState {
        try await database.read { db in
            guard try await db.raw("SELECT id FROM contacts WHERE id = \(bind: contactId) AND workspace_id = \(bind: workspaceId)").first() != nil else {
                throw OutboundError.contactNotFound
            }
            let thread = try await Self.thread(on: db, contactId: contactId, channelId: channelId, workspaceId: workspaceId,
                                               lockCounters: nil, sender: sender, at: now)
            return ComposerState.evaluate(thread.input)
        }
    }

    /// The channel and the contact's identity on it (the one that wrote last), as the policy's
    /// input. With `lockCounters` (PostgreSQL's `FOR UPDATE`) a Viber channel's row is locked,
    /// since sends to different contacts race on its monthly count.
    static func thread(
        on db: any SQLDatabase, contactId: Int64, channelId: Int64, workspaceId: Int64, lockCounters: String?, sender: SenderKind, at now: Date
    ) async throws -> (identityId: Int64, input: PolicyInput) {
        let channelQuery: SQLQueryString = """
            SELECT kind, viber_month, viber_month_count, commercial_terms_accepted FROM channels
            WHERE id = \(bind: channelId) AND workspace_id = \(bind: workspaceId)
            """
        guard var channelRow = try await db.raw(channelQuery).first() else { throw OutboundError.unknownChannel }
        let kind = try channelRow.decodeEnum(column: "kind", as: ChannelKind.self)
        if kind == .viber, let lock = lockCounters {
            channelRow = try await db.raw("\(channelQuery) \(unsafeRaw: lock)").first().required("channel")
        }
        guard let identityRow = try await db.raw("""
            SELECT id, last_inbound_at, outbound_since_inbound FROM contact_identities
            WHERE contact_id = \(bind: contactId) AND channel_id = \(bind: channelId)
            ORDER BY CASE WHEN last_inbound_at IS NULL THEN 1 ELSE 0 END, last_inbound_at DESC, id LIMIT 1
            """).first() else { throw OutboundError.noIdentity(kind) }
        let input = PolicyInput(
            channel: kind,
            lastInboundAt: try identityRow.decodeOptionalDate(column: "last_inbound_at"),
            outboundSinceInbound: try identityRow.decode(column: "outbound_since_inbound", as: Int64.self),
            now: now, sender: sender,
            viberMonth: try channelRow.decode(column: "viber_month", as: String?.self),
            viberMonthCount: try channelRow.decode(column: "viber_month_count", as: Int64.self),
            commercialTermsAccepted: try channelRow.decodeBool(column: "commercial_terms_accepted")
        )
        return (try identityRow.decode(column: "id", as: Int64.self), input)
    }
}
