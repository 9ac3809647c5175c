import Foundation
import ParleyCore
import SQLKit

/// The payload of `contact.updated`: what changed, so that workflows triggered by a tag or a
/// field can tell, and — for a workflow's own changes — which workflow made it and how deep a
/// chain of workflows it is in (the loop guard).
public struct ContactChangePayload: Codable, Sendable, Equatable {
    public var contactId: Int64
    public var tagsAdded: [String]?
    public var tagsRemoved: [String]?
    public var fieldsChanged: [String]?
    public var workflowId: Int64?
    public var depth: Int?

    public init(contactId: Int64, tagsAdded: [String]? = nil, tagsRemoved: [String]? = nil, fieldsChanged: [String]? = nil,
                workflowId: Int64? = nil, depth: Int? = nil) {
        self.contactId = contactId
        self.tagsAdded = tagsAdded
        self.tagsRemoved = tagsRemoved
        self.fieldsChanged = fieldsChanged
        self.workflowId = workflowId
        self.depth = depth
    }

    /// The differences between a contact before and after a change.
    public static func between(_ before: Contact, _ after: Contact) -> ContactChangePayload {
        let added = Set(after.tags).subtracting(before.tags).sorted()
        let removed = Set(before.tags).subtracting(after.tags).sorted()
        var fields: [String] = []
        let standard: [(String, String?, String?)] = [
            ("firstName", before.firstName, after.firstName), ("lastName", before.lastName, after.lastName),
            ("email", before.email, after.email), ("phone", before.phone, after.phone),
            ("language", before.language, after.language), ("country", before.country, after.country),
        ]
        for (name, old, new) in standard where old != new { fields.append(name) }
        for key in Set(before.customFields.keys).union(after.customFields.keys).sorted() where before.customFields[key] != after.customFields[key] {
            fields.append(key)
        }
        return ContactChangePayload(contactId: after.id, tagsAdded: added.isEmpty ? nil : added, tagsRemoved: removed.isEmpty ? nil : removed,
                                    fieldsChanged: fields.isEmpty ? nil : fields)
    }

    public var isEmpty: Bool { tagsAdded == nil && tagsRemoved == nil && fieldsChanged == nil }
}

/// Who a workflow action is done for: the run, so that its events carry the loop guard.
public struct WorkflowActor: Sendable {
    public let workflowId: Int64
    public let depth: Int

    public init(workflowId: Int64, depth: Int) {
        self.workflowId = workflowId
        self.depth = depth
    }
}

/// The changes a workflow makes to contacts and conversations, each in one transaction with
/// its event.
public struct WorkflowActions: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    /// Applies contact fields for a workflow; returns whether anything changed (an unchanged
    /// contact appends no event, so a workflow re-adding a tag triggers nothing).
    @discardableResult
    public func updateContact(id: Int64, workspaceId: Int64, fields: ContactFields, actor: WorkflowActor, at now: Date) async throws -> Bool {
        let forUpdate = database.facts.forUpdate
        return try await database.transaction { db in
            guard let before = try await ContactRepository.load(on: db, ids: [id], workspaceId: workspaceId).first else {
                throw StoreError.notFound("contact")
            }
            guard try await ContactRepository.apply(on: db, id: id, workspaceId: workspaceId, fields: fields, forUpdate: forUpdate, at: now),
                  let after = try await ContactRepository.load(on: db, ids: [id], workspaceId: workspaceId).first else { return false }
            var change = ContactChangePayload.between(before, after)
            guard !change.isEmpty else { return false }
            change.workflowId = actor.workflowId
            change.depth = actor.depth
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .contactUpdated, subjectId: id, payload: change, at: now)
            return true
        }
    }

    /// Clears the assignee of the contact's latest conversation, open or closed (unassign
    /// after close acts on a closed one). Returns false when it had none.
    @discardableResult
    public func unassign(contactId: Int64, workspaceId: Int64, at now: Date) async throws -> Bool {
        let facts = database.facts
        return try await database.transaction { db in
            try await ConversationRepository.lockContact(on: db, facts: facts, contactId: contactId, workspaceId: workspaceId)
            guard let row = try await db.raw("""
                SELECT id FROM conversations WHERE contact_id = \(bind: contactId) AND is_latest = \(bind: true)
                """).first(),
                let conversation = try await ConversationRepository.find(on: db, id: try row.decode(column: "id", as: Int64.self)),
                conversation.assigneeId != nil else { return false }
            try await ConversationRepository.setAssignee(on: db, workspaceId: workspaceId, conversation: conversation, assigneeId: nil,
                                                         actorUserId: nil, at: now)
            return true
        }
    }

    /// What a branch needs to know about a contact: whether they had an earlier conversation.
    public func isReturning(contactId: Int64, conversationId: Int64?) async throws -> Bool {
        try await database.read { db in
            try await db.raw("""
                SELECT COUNT(*) AS n FROM conversations WHERE contact_id = \(bind: contactId) AND id <> \(bind: conversationId ?? 0)
                """).first()?.decode(column: "n", as: Int.self) ?? 0 > (conversationId == nil ? 1 : 0)
        }
    }

    /// Open conversations per user, for least-open assignment.
    public func openCounts(userIds: [Int64], workspaceId: Int64) async throws -> [Int64: Int] {
        guard !userIds.isEmpty else { return [:] }
        return try await database.read { db in
            var counts: [Int64: Int] = [:]
            for row in try await db.raw("""
                SELECT assignee_id, COUNT(*) AS n FROM conversations
                WHERE workspace_id = \(bind: workspaceId) AND status = 'open' AND assignee_id IN (\(SQLList(userIds.map { SQLBind($0) })))
                GROUP BY assignee_id
                """).all() {
                counts[try row.decode(column: "assignee_id", as: Int64.self)] = try row.decode(column: "n", as: Int.self)
            }
            return counts
        }
    }

    /// The users of the list that exist in the workspace and are not disabled, in list order.
    public func activeUsers(_ userIds: [Int64], workspaceId: Int64) async throws -> [Int64] {
        guard !userIds.isEmpty else { return [] }
        let found = try await database.read { db in
            try await db.raw("""
                SELECT id FROM users WHERE workspace_id = \(bind: workspaceId) AND disabled_at IS NULL AND id IN (\(SQLList(userIds.map { SQLBind($0) })))
                """).all().map { try $0.decode(column: "id", as: Int64.self) }
        }
        return userIds.filter(found.contains)
    }

    /// An inbound message's text and contact (nil for anything else), to hand replies to questions.
    public func inboundMessage(id: Int64) async throws -> (contactId: Int64, text: String)? {
        try await database.read { db in
            guard let row = try await db.raw("""
                SELECT contact_id, text FROM messages WHERE id = \(bind: id) AND direction = 'inbound'
                """).first() else { return nil }
            return (try row.decode(column: "contact_id", as: Int64.self), try row.decode(column: "text", as: String?.self) ?? "")
        }
    }

    /// The contact with this email address, for incoming webhooks that name one.
    public func contactId(email: String, workspaceId: Int64) async throws -> Int64? {
        try await database.read { db in
            try await db.raw("""
                SELECT id FROM contacts WHERE workspace_id = \(bind: workspaceId) AND email_lower = \(bind: SearchNormalization.email(email))
                ORDER BY id LIMIT 1
                """).first()?.decode(column: "id", as: Int64.self)
        }
    }

    /// A conversation's channel (nil when it has none or does not exist).
    public func conversationChannel(id: Int64) async throws -> (channelId: Int64, kind: ChannelKind)? {
        try await database.read { db in
            guard let row = try await db.raw("""
                SELECT c.channel_id, ch.kind FROM conversations c JOIN channels ch ON ch.id = c.channel_id WHERE c.id = \(bind: id)
                """).first() else { return nil }
            return (try row.decode(column: "channel_id", as: Int64.self), try row.decodeEnum(column: "kind", as: ChannelKind.self))
        }
    }
}
