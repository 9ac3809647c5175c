import Foundation
import ParleyCore
import SQLKit

/// Contacts with their tags, custom field values and channel identities.
public struct ContactRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    static let columns = "id, workspace_id, first_name, last_name, email, phone, language, country, custom_fields, created_at, updated_at"

    // MARK: Writing

    /// Creates a contact from cleaned fields (see ``ContactRules``) whose custom values are typed.
    public func create(workspaceId: Int64, fields: ContactFields, actorUserId: Int64?, at now: Date) async throws -> Contact {
        try await database.transaction { db in
            let id = try await Self.insert(on: db, workspaceId: workspaceId, fields: fields, at: now)
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .contactCreated, subjectId: id, actorUserId: actorUserId,
                                      payload: ["contactId": id], at: now)
            return try await Self.load(on: db, ids: [id], workspaceId: workspaceId).first.required("contact")
        }
    }

    /// Inserts the contact row, its tags and searchable values; returns its id.
    static func insert(on db: any SQLDatabase, workspaceId: Int64, fields: ContactFields, at now: Date) async throws -> Int64 {
        let first = fields.firstName ?? "", last = fields.lastName ?? ""
        let email = fields.email ?? nil, phone = fields.phone ?? nil
        let custom = (fields.customFields ?? [:]).compactMapValues { $0 }
        let row = try await db.raw("""
            INSERT INTO contacts (workspace_id, first_name, last_name, email, email_lower, phone, phone_digits, language, country,
                                  search_name, custom_fields, created_at, updated_at)
            VALUES (\(bind: workspaceId), \(bind: first), \(bind: last), \(bind: email), \(bind: email.map(SearchNormalization.email)),
                    \(bind: phone), \(bind: phone.map(SearchNormalization.digits)), \(bind: fields.language ?? nil), \(bind: fields.country ?? nil),
                    \(bind: SearchNormalization.fold(first + " " + last)), \(bind: try encode(custom)),
                    \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
            RETURNING id
            """).first()
        let id = try row.required("contact").decode(column: "id", as: Int64.self)
        // A new contact has no tags or values to replace: write only those it comes with.
        if let tags = fields.tags, !tags.isEmpty {
            try await replaceTags(on: db, contactId: id, workspaceId: workspaceId, tags: tags)
        }
        if !custom.isEmpty {
            try await replaceTextValues(on: db, contactId: id, workspaceId: workspaceId, values: custom)
        }
        return id
    }

    /// Applies the fields present; returns nil when the contact is not in the workspace.
    public func update(id: Int64, workspaceId: Int64, fields: ContactFields, actorUserId: Int64?, at now: Date) async throws -> Contact? {
        let forUpdate = database.facts.forUpdate
        return try await database.transaction { db in
            let before = try await Self.load(on: db, ids: [id], workspaceId: workspaceId).first
            guard try await Self.apply(on: db, id: id, workspaceId: workspaceId, fields: fields, forUpdate: forUpdate, at: now),
                  let before, let after = try await Self.load(on: db, ids: [id], workspaceId: workspaceId).first else { return nil }
            // The event says what changed: workflows start on tag and field changes.
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .contactUpdated, subjectId: id, actorUserId: actorUserId,
                                      payload: ContactChangePayload.between(before, after), at: now)
            return after
        }
    }

    /// Writes the fields present onto the stored contact; false when it is not in the workspace.
    static func apply(on db: any SQLDatabase, id: Int64, workspaceId: Int64, fields: ContactFields, forUpdate: String, at now: Date) async throws -> Bool {
        guard let row = try await db.raw("""
            SELECT \(unsafeRaw: columns) FROM contacts WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId) \(unsafeRaw: forUpdate)
            """).first() else { return false }
        let current = try decodeRow(row)
        let first = fields.firstName ?? current.firstName
        let last = fields.lastName ?? current.lastName
        let email = fields.email ?? current.email
        let phone = fields.phone ?? current.phone
        var custom = current.customFields
        for (key, value) in fields.customFields ?? [:] { custom[key] = value }
        try await db.raw("""
            UPDATE contacts SET first_name = \(bind: first), last_name = \(bind: last), email = \(bind: email),
                email_lower = \(bind: email.map(SearchNormalization.email)), phone = \(bind: phone),
                phone_digits = \(bind: phone.map(SearchNormalization.digits)),
                language = \(bind: fields.language ?? current.language), country = \(bind: fields.country ?? current.country),
                search_name = \(bind: SearchNormalization.fold(first + " " + last)), custom_fields = \(bind: try encode(custom)),
                updated_at = \(bind: now.epochMilliseconds)
            WHERE id = \(bind: id)
            """).run()
        if let tags = fields.tags {
            try await replaceTags(on: db, contactId: id, workspaceId: workspaceId, tags: tags)
        }
        if fields.customFields != nil {
            try await replaceTextValues(on: db, contactId: id, workspaceId: workspaceId, values: custom)
        }
        return true
    }

    /// Deletes a contact with its conversations and messages.
    public func delete(id: Int64, workspaceId: Int64, actorUserId: Int64?, at now: Date) async throws -> Bool {
        try await database.transaction { db in
            guard try await db.raw("DELETE FROM contacts WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId) RETURNING id").first() != nil else {
                return false
            }
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .contactDeleted, subjectId: id, actorUserId: actorUserId,
                                      payload: ["contactId": id], at: now)
            return true
        }
    }

    /// Adds a channel identity. The same address on the same channel cannot belong to two contacts.
    public func addIdentity(contactId: Int64, workspaceId: Int64, channelId: Int64, externalId: String, displayName: String?, at now: Date) async throws -> Contact? {
        try await database.transaction { db in
            guard try await db.raw("SELECT id FROM contacts WHERE id = \(bind: contactId) AND workspace_id = \(bind: workspaceId)").first() != nil else {
                return nil
            }
            guard try await db.raw("SELECT id FROM channels WHERE id = \(bind: channelId) AND workspace_id = \(bind: workspaceId)").first() != nil else {
                throw StoreError.notFound("channel")
            }
            if let owner = try await db.raw("SELECT contact_id FROM contact_identities WHERE channel_id = \(bind: channelId) AND external_id = \(bind: externalId)").first() {
                let other = try owner.decode(column: "contact_id", as: Int64.self)
                throw StoreError.conflict(other == contactId ? "the contact already has this identity" : "this address belongs to contact \(other)")
            }
            try await Self.insertIdentity(on: db, workspaceId: workspaceId, contactId: contactId, channelId: channelId,
                                          externalId: externalId, displayName: displayName, at: now)
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .contactUpdated, subjectId: contactId, payload: ["contactId": contactId], at: now)
            return try await Self.load(on: db, ids: [contactId], workspaceId: workspaceId).first
        }
    }

    @discardableResult
    static func insertIdentity(on db: any SQLDatabase, workspaceId: Int64, contactId: Int64, channelId: Int64, externalId: String, displayName: String?, at now: Date) async throws -> Int64 {
        try await db.raw("""
            INSERT INTO contact_identities (workspace_id, contact_id, channel_id, external_id, display_name, created_at)
            VALUES (\(bind: workspaceId), \(bind: contactId), \(bind: channelId), \(bind: externalId), \(bind: displayName), \(bind: now.epochMilliseconds))
            RETURNING id
            """).first().required("identity").decode(column: "id", as: Int64.self)
    }

    public func removeIdentity(contactId: Int64, workspaceId: Int64, identityId: Int64) async throws -> Bool {
        try await database.transaction { db in
            try await db.raw("""
                DELETE FROM contact_identities WHERE id = \(bind: identityId) AND contact_id = \(bind: contactId) AND workspace_id = \(bind: workspaceId)
                RETURNING id
                """).first() != nil
        }
    }

    // MARK: Reading

    public func find(id: Int64, workspaceId: Int64) async throws -> Contact? {
        try await database.read { db in try await Self.load(on: db, ids: [id], workspaceId: workspaceId).first }
    }

    /// The workspace's contacts among `ids`, by id (three queries whatever the count); ids of
    /// contacts deleted since, or of another workspace, are absent.
    public func find(ids: [Int64], workspaceId: Int64) async throws -> [Int64: Contact] {
        guard !ids.isEmpty else { return [:] }
        return try await database.read { db in
            Dictionary(try await Self.load(on: db, ids: ids, workspaceId: workspaceId).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Contacts newest first, optionally matching a search-bar query, after a keyset cursor (an id).
    /// With `visibleTo`, only the contacts that user may see: those whose latest conversation is
    /// theirs or unassigned, or who have none (an agent who may not see All).
    public func list(workspaceId: Int64, query: ContactSearchQuery?, beforeId: Int64?, limit: Int,
                     visibleTo viewerId: Int64? = nil) async throws -> [Contact] {
        let kind = database.kind
        return try await database.read { db in
            var sql: SQLQueryString = "SELECT id FROM contacts WHERE workspace_id = \(bind: workspaceId)"
            if let query {
                sql = "\(sql) AND id IN (\(ContactSearchSQL.matchingIds(query, workspaceId: workspaceId, kind: kind, forMembership: true)))"
            }
            if let viewerId {
                sql = """
                    \(sql) AND NOT EXISTS (SELECT 1 FROM conversations v WHERE v.contact_id = contacts.id AND v.workspace_id = \(bind: workspaceId)
                    AND v.is_latest = \(bind: true) AND v.assignee_id IS NOT NULL AND v.assignee_id <> \(bind: viewerId))
                    """
            }
            if let beforeId { sql = "\(sql) AND id < \(bind: beforeId)" }
            sql = "\(sql) ORDER BY id DESC LIMIT \(bind: limit)"
            let ids = try await db.raw(sql).all().map { try $0.decode(column: "id", as: Int64.self) }
            return try await Self.load(on: db, ids: ids, workspaceId: workspaceId)
        }
    }

    /// Loads full contacts in the order of `ids`: three queries whatever the count.
    static func load(on db: any SQLDatabase, ids: [Int64], workspaceId: Int64) async throws -> [Contact] {
        guard !ids.isEmpty else { return [] }
        let list = SQLList(ids.map { SQLBind($0) })
        let rows = try await db.raw("SELECT \(unsafeRaw: columns) FROM contacts WHERE workspace_id = \(bind: workspaceId) AND id IN (\(list))").all()
        var contacts: [Int64: Contact] = [:]
        for row in rows {
            let contact = try decodeRow(row)
            contacts[contact.id] = contact
        }
        let definitions = try await CustomFieldRepository.list(on: db, workspaceId: workspaceId)
        for row in try await db.raw("SELECT contact_id, tag FROM contact_tags WHERE contact_id IN (\(list)) ORDER BY tag").all() {
            let id = try row.decode(column: "contact_id", as: Int64.self)
            contacts[id]?.tags.append(try row.decode(column: "tag", as: String.self))
        }
        for row in try await db.raw("""
            SELECT i.id, i.contact_id, i.channel_id, c.kind, i.external_id, i.display_name, i.last_inbound_at, i.outbound_since_inbound
            FROM contact_identities i JOIN channels c ON c.id = i.channel_id
            WHERE i.contact_id IN (\(list)) ORDER BY i.id
            """).all() {
            let id = try row.decode(column: "contact_id", as: Int64.self)
            contacts[id]?.identities.append(try decodeIdentity(row))
        }
        return ids.compactMap { id in
            guard var contact = contacts[id] else { return nil }
            contact.customFields = CustomFieldValidation.retype(contact.customFields, definitions: definitions)
            return contact
        }
    }

    static func decodeIdentity(_ row: any SQLRow) throws -> ContactIdentity {
        ContactIdentity(
            id: try row.decode(column: "id", as: Int64.self),
            channelId: try row.decode(column: "channel_id", as: Int64.self),
            channelType: try row.decodeEnum(column: "kind", as: ChannelKind.self),
            externalId: try row.decode(column: "external_id", as: String.self),
            displayName: try row.decode(column: "display_name", as: String?.self),
            lastInboundAt: try row.decodeOptionalDate(column: "last_inbound_at"),
            outboundSinceInbound: try row.decode(column: "outbound_since_inbound", as: Int64.self)
        )
    }

    static func decodeRow(_ row: any SQLRow) throws -> Contact {
        let customJSON = try row.decode(column: "custom_fields", as: String.self)
        // Most contacts have no custom fields; a page of them spared a JSON decoder each.
        let custom = customJSON == Self.noCustomFields ? [:]
            : try StoredJSON.decode([String: CustomFieldValue].self, from: customJSON, column: "contacts.custom_fields", id: try? row.decode(column: "id", as: Int64.self))
        return Contact(
            id: try row.decode(column: "id", as: Int64.self),
            workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
            firstName: try row.decode(column: "first_name", as: String.self),
            lastName: try row.decode(column: "last_name", as: String.self),
            email: try row.decode(column: "email", as: String?.self),
            phone: try row.decode(column: "phone", as: String?.self),
            language: try row.decode(column: "language", as: String?.self),
            country: try row.decode(column: "country", as: String?.self),
            tags: [],
            customFields: custom,
            identities: [],
            createdAt: try row.decodeDate(column: "created_at"),
            updatedAt: try row.decodeDate(column: "updated_at")
        )
    }

    // MARK: Helpers

    static func encode(_ custom: [String: CustomFieldValue]) throws -> String {
        // Each new contact of an inbound message has none: 4% of the writer's time went to
        // encoding that emptiness.
        if custom.isEmpty { return noCustomFields }
        return String(decoding: try JSONEncoder.store.encode(custom), as: UTF8.self)
    }

    /// Custom fields as stored when there are none: what the encoder writes for an empty object.
    static let noCustomFields = "{}"

    static func replaceTags(on db: any SQLDatabase, contactId: Int64, workspaceId: Int64, tags: [String]) async throws {
        try await db.raw("DELETE FROM contact_tags WHERE contact_id = \(bind: contactId)").run()
        guard !tags.isEmpty else { return }
        let rows = SQLList(tags.map { SQLGroupExpression([SQLBind(contactId), SQLBind(workspaceId), SQLBind($0)]) })
        try await db.raw("INSERT INTO contact_tags (contact_id, workspace_id, tag) VALUES \(rows)").run()
    }

    /// Keeps the exact-search table in step with the contact's text-typed custom values.
    static func replaceTextValues(on db: any SQLDatabase, contactId: Int64, workspaceId: Int64, values: [String: CustomFieldValue]) async throws {
        try await db.raw("DELETE FROM contact_text_values WHERE contact_id = \(bind: contactId)").run()
        let texts = values.compactMap { key, value in value.searchableText.map { (key, $0.lowercased()) } }.sorted { $0.0 < $1.0 }
        guard !texts.isEmpty else { return }
        let rows = SQLList(texts.map { SQLGroupExpression([SQLBind(contactId), SQLBind(workspaceId), SQLBind($0.0), SQLBind($0.1)]) })
        try await db.raw("INSERT INTO contact_text_values (contact_id, workspace_id, field_key, value_lower) VALUES \(rows)").run()
    }
}
