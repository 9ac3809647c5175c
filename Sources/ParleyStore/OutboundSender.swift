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
    /// Set: when the window forbids sending now, the message is queued until the contact writes
    /// again, and given up at this time. Nil: sent now or refused.
    public var queueUntil: Date?

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
    /// The conversation the message went into; for a queued message, the contact's latest one
    /// (nil if they have none yet).
    public let conversation: Conversation?
    /// How it is sent; nil for a queued message (decided when the contact writes).
    public let plan: SendPlan?
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
    /// A queued message that is no longer queued (sent, cancelled or expired), or not the caller's.
    case notQueued
    /// A change a queued message cannot take.
    case invalidEdit(String)
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
            var prepared = try await Self.prepare(on: db, request: request, channel: kind)
            var input = thread.input
            input.content = prepared.requested
            let decision = WindowPolicy.decide(input)
            if let until = request.queueUntil, MessageQueue.queueable(kind), Self.waitsForContact(decision) {
                prepared.files = try await Self.checkedAttachments(on: db, request: request, channel: kind)
                return try await QueuedMessages.queue(on: db, request: request, identityId: thread.identityId, prepared: prepared, until: until, at: now)
            }
            let plan: SendPlan
            switch decision {
            case .refused(let refusal): throw OutboundError.refused(refusal)
            case .allowed(let allowed): plan = allowed
            }
            prepared.files = try await Self.checkedAttachments(on: db, request: request, channel: kind)
            return try await OutboundPlacement.place(on: db, request: request, identityId: thread.identityId, prepared: prepared, plan: plan,
                                                     queuedMessageId: nil, at: now)
        }
    }

    /// Whether a decision means "not now, but when the contact writes": refused, or recorded
    /// without delivery (WeChat outside its window).
    static func waitsForContact(_ decision: PolicyDecision) -> Bool {
        switch decision {
        case .refused, .allowed(.recordUndelivered): return true
        case .allowed: return false
        }
    }

    /// What is being sent, with a template checked and rendered.
    static func prepare(on db: any SQLDatabase, request: OutboundRequest, channel kind: ChannelKind) async throws -> PreparedContent {
        switch request.content {
        case .text(let text):
            return PreparedContent(instructions: DeliveryInstructions(text: text, subject: request.subject), requested: .text, contentKind: "text")
        case .tagged(let text, let tag):
            return PreparedContent(instructions: DeliveryInstructions(text: text, tag: tag, subject: request.subject), requested: .tagged(tag), contentKind: "tagged")
        case .template(let name, let language, let parameters):
            guard kind == .whatsapp else { return PreparedContent(instructions: DeliveryInstructions(text: ""), requested: .template, contentKind: "template") }
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
            let instructions = DeliveryInstructions(
                text: TemplateBody.render(template.body, parameters: parameters),
                template: .init(name: name, language: language, parameters: parameters)
            )
            return PreparedContent(instructions: instructions, requested: .template, contentKind: "template")
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
            var state = ComposerState.evaluate(thread.input)
            state.alternatives = try await Self.alternatives(on: db, contactId: contactId, besides: channelId, workspaceId: workspaceId,
                                                             sender: sender, at: now)
            return state
        }
    }

    /// The contact's other channels and what could be sent on each now, ranked (free text
    /// first, then the workspace's channel preference).
    static func alternatives(on db: any SQLDatabase, contactId: Int64, besides channelId: Int64, workspaceId: Int64, sender: SenderKind,
                             at now: Date) async throws -> [ReachOption] {
        let rows = try await db.raw("""
            SELECT DISTINCT c.id, c.kind, c.name FROM contact_identities i JOIN channels c ON c.id = i.channel_id
            WHERE i.contact_id = \(bind: contactId) AND c.workspace_id = \(bind: workspaceId) AND c.id <> \(bind: channelId)
            """).all()
        guard !rows.isEmpty else { return [] }
        var options: [(option: ReachOption, state: ComposerState)] = []
        for row in rows {
            let id = try row.decode(column: "id", as: Int64.self)
            let thread = try await thread(on: db, contactId: contactId, channelId: id, workspaceId: workspaceId, lockCounters: nil, sender: sender, at: now)
            let state = ComposerState.evaluate(thread.input)
            options.append((ReachOption(channelId: id, channelType: try row.decodeEnum(column: "kind", as: ChannelKind.self),
                                        channelName: try row.decode(column: "name", as: String.self), allowed: state.allowed,
                                        summary: ReachRanking.summary(state)), state))
        }
        let preferenceJSON = try await db.raw("SELECT channel_preference FROM workspaces WHERE id = \(bind: workspaceId)").first()?
            .decode(column: "channel_preference", as: String.self) ?? "[]"
        let preference = try StoredJSON.decode([ChannelKind].self, from: preferenceJSON, column: "workspaces.channel_preference", id: workspaceId)
        return ReachRanking.ordered(options, preference: preference)
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
