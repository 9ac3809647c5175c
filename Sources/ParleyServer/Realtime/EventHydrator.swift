import Foundation
import ParleyCore
import ParleyStore

/// A stored event ready to send: its frame encoded once for every client, and who may see it.
struct HydratedEvent: Sendable {
    let position: EventPosition
    let workspaceId: Int64
    let type: EventType
    let createdAt: Date
    /// Users an agent without All visibility must be to receive it; nil: everyone in the
    /// workspace (not about a conversation, or about an unassigned one).
    let audience: Set<Int64>?
    /// Whether it can change the inbox counts.
    let changesCounts: Bool
    /// For `workspace.settings_updated`: whether agents now see All.
    let agentsSeeAll: Bool?
    let frame: String
    /// The message, conversation or contact the event is about.
    var subjectId: Int64? = nil
    /// For a message of a website chat visitor: what their widget receives.
    var visitor: VisitorDelivery? = nil
    /// For a notification: the one user who receives it.
    var recipient: Int64? = nil
}

/// Turns events into what a UI needs without a follow-up request: the message with its inbox
/// row, the conversation's inbox row and timeline line, the contact. Rows are read in one query
/// per kind per workspace for a whole batch, so fan-out costs the same for 1 or 1,000 clients.
struct EventHydrator: Sendable {
    let services: Services

    func hydrate(_ events: [FeedEvent]) async throws -> [HydratedEvent] {
        var result: [HydratedEvent] = []
        result.reserveCapacity(events.count)
        var start = 0
        // Consecutive runs of one workspace keep stream order while batching the reads.
        while start < events.count {
            let workspaceId = events[start].event.workspaceId
            var end = start
            while end < events.count, events[end].event.workspaceId == workspaceId { end += 1 }
            result += try await hydrate(Array(events[start..<end]), workspaceId: workspaceId)
            start = end
        }
        return result
    }

    private func hydrate(_ events: [FeedEvent], workspaceId: Int64) async throws -> [HydratedEvent] {
        let messageIds = events.filter { $0.event.type == .messageCreated || $0.event.type == .messageUpdated }.compactMap(\.event.subjectId)
        let messages = try await services.timeline.messages(ids: messageIds, workspaceId: workspaceId)
        var conversationIds = Set(messages.values.compactMap(\.conversationId))
        conversationIds.formUnion(events.filter { $0.event.type.isConversationChange }.compactMap(\.event.subjectId))
        var query = InboxQuery(workspaceId: workspaceId, viewerId: 0, status: .all, limit: max(conversationIds.count, 1))
        query.conversationIds = Array(conversationIds)
        let rows = conversationIds.isEmpty ? [:] : Dictionary(
            try await services.inbox.list(query).map { ($0.conversation.id, $0) }, uniquingKeysWith: { first, _ in first })
        let actorIds = Set(events.filter { $0.event.type.isConversationChange }.compactMap(\.event.actorUserId))
        let actors = try await services.users.names(ids: Array(actorIds), workspaceId: workspaceId)
        // A burst of new contacts (an import, a campaign's replies) is one read, not one per event.
        let contactIds = Set(events.filter { $0.event.type == .contactCreated || $0.event.type == .contactUpdated }.compactMap(\.event.subjectId))
        let contacts = try await services.contacts.find(ids: Array(contactIds), workspaceId: workspaceId)
        let now = services.clock.now()

        var hydrated: [HydratedEvent] = []
        for item in events {
            let event = item.event
            var audience: Set<Int64>?
            var recipient: Int64?
            var agentsSeeAll: Bool?
            let frame: String
            func readers(of row: InboxRow?, also extra: Int64? = nil) -> Set<Int64>? {
                guard let assignee = row?.conversation.assigneeId else { return nil }
                return Set([assignee] + (extra.map { [$0] } ?? []))
            }
            switch event.type {
            case .messageCreated, .messageUpdated:
                guard let id = event.subjectId, let message = messages[id] else { continue }  // deleted since
                let row = message.conversationId.flatMap { rows[$0] }
                audience = readers(of: row)
                frame = encode(event, FramePayload.MessageChange(contactId: message.contactId, message: message,
                                                                  conversation: row.map { .init(row: $0, now: now) }))
            case .conversationOpened, .conversationClosed, .conversationAssigned, .conversationRead, .conversationUnread:
                let payload = JSONValue(parsing: event.payload)
                let row = event.subjectId.flatMap { rows[$0] }
                guard let contactId = row?.conversation.contactId ?? payload["contactId"]?.int64 else { continue }
                let previous = payload["details"]?["previousAssigneeId"]?.int64
                audience = readers(of: row, also: previous)
                let activity = payload["kind"]?.string.map { kind in
                    FramePayload.Activity(conversationId: event.subjectId ?? 0, kind: kind,
                                          actor: event.actorUserId.flatMap { id in actors[id].map { .init(id: id, name: $0) } },
                                          details: payload["details"] ?? .object([]))
                }
                frame = encode(event, FramePayload.ConversationChange(contactId: contactId, conversation: row.map { .init(row: $0, now: now) },
                                                                       activity: activity))
            case .contactCreated, .contactUpdated, .contactDeleted:
                guard let id = event.subjectId else { continue }
                let contact = event.type == .contactDeleted ? nil : contacts[id]
                frame = encode(event, FramePayload.ContactChange(contactId: id, contact: contact.map(ContactsController.ContactResponse.init)))
            case .workspaceSettingsUpdated:
                agentsSeeAll = try await services.workspaces.find(id: workspaceId)?.settings.agentsSeeAll
                frame = encode(event, FramePayload.Subject(subjectId: event.subjectId))
            case .workspaceCreated, .userCreated, .channelCreated, .channelUpdated, .channelDeleted:
                frame = encode(event, FramePayload.Subject(subjectId: event.subjectId))
            case .notificationCreated:
                guard let id = event.subjectId, let userId = JSONValue(parsing: event.payload)["userId"]?.int64,
                      let notification = try await services.notifications.find(id: id, workspaceId: workspaceId, userId: userId) else { continue }
                recipient = userId
                frame = encode(event, notification)
            }
            hydrated.append(HydratedEvent(position: item.position, workspaceId: workspaceId, type: event.type, createdAt: event.createdAt,
                                          audience: audience, changesCounts: event.type.changesCounts, agentsSeeAll: agentsSeeAll, frame: frame,
                                          subjectId: event.subjectId, recipient: recipient))
        }
        return try await withVisitorFrames(hydrated, messages: messages, workspaceId: workspaceId)
    }

    private func encode(_ event: Event, _ payload: some Encodable & Sendable) -> String {
        FrameText.encode(EventFrame(id: event.id, type: event.type.rawValue, at: event.createdAt, data: payload))
    }
}

extension EventType {
    var isConversationChange: Bool {
        switch self {
        case .conversationOpened, .conversationClosed, .conversationAssigned, .conversationRead, .conversationUnread: return true
        default: return false
        }
    }

    var changesCounts: Bool { isConversationChange || self == .messageCreated }
}
