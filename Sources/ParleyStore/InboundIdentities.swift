import Foundation
import ParleyCore
import SQLKit

/// Finds the identity an inbound message comes from and brings it up to date with what the
/// message tells: a second address, a phone number, a name.
enum InboundIdentities {
    /// The sender's contact, identity and open conversation, if the sender is known by either of
    /// the message's addresses. On PostgreSQL the contact is locked for the rest of the
    /// transaction (see ``afterLock(on:contactId:identityId:)``).
    static func find(on db: any SQLDatabase, facts: SQLDialectFacts, workspaceId: Int64, message: InboundMessage, at now: Date) async throws -> InboundSender? {
        let addresses = [message.externalId] + (message.aliasId.map { [$0] } ?? [])
        let list = SQLList(addresses.map { SQLBind($0) })
        // One read answers what the rest of the transaction would otherwise ask in statements
        // of their own: whether the contact lacks a phone or a name, whether agents queued
        // messages for this identity. The identity whose address is exactly the sender's comes first.
        guard let row = try await db.raw("""
            SELECT i.id, i.contact_id, i.external_id, i.alias_id, i.phone_digits, c.id AS open_id,
                   ct.phone IS NULL AS phone_missing, (ct.first_name = '' AND ct.last_name = '') AS nameless,
                   EXISTS (SELECT 1 FROM messages q WHERE q.identity_id = i.id AND q.status = 'scheduled') AS queued
            FROM contact_identities i
            JOIN contacts ct ON ct.id = i.contact_id
            LEFT JOIN conversations c ON c.contact_id = i.contact_id AND c.status = 'open'
            WHERE i.channel_id = \(bind: message.channelId) AND i.workspace_id = \(bind: workspaceId)
              AND (i.external_id IN (\(list)) OR i.alias_id IN (\(list)))
            ORDER BY CASE WHEN i.external_id = \(bind: message.externalId) THEN 0 ELSE 1 END, i.id
            LIMIT 1 \(unsafeRaw: facts.forUpdate(of: "ct"))
            """).first() else { return nil }
        let identityId = try row.decode(column: "id", as: Int64.self)
        let contactId = try row.decode(column: "contact_id", as: Int64.self)
        let externalId = try row.decode(column: "external_id", as: String.self)
        let aliasId = try row.decode(column: "alias_id", as: String?.self)
        let digits = message.phone.map(SearchNormalization.digits)
        let storedDigits = try row.decode(column: "phone_digits", as: String?.self)
        if externalId != message.externalId, message.aliasId == externalId {
            // Known until now by the second address alone (a WhatsApp user id before the phone
            // number was shared): the identity takes the primary address and keeps the other.
            try await db.raw("""
                UPDATE contact_identities SET external_id = \(bind: message.externalId), alias_id = \(bind: externalId),
                    phone_digits = COALESCE(\(bind: digits), phone_digits)
                WHERE id = \(bind: identityId)
                """).run()
        } else if (aliasId == nil && message.aliasId != nil && externalId == message.externalId) || (digits != nil && storedDigits != digits) {
            try await db.raw("""
                UPDATE contact_identities SET alias_id = COALESCE(alias_id, \(bind: message.aliasId)), phone_digits = COALESCE(\(bind: digits), phone_digits)
                WHERE id = \(bind: identityId)
                """).run()
        }
        var fill = message
        if try !row.decode(column: "phone_missing", as: Bool.self) { fill.phone = nil }
        if try !row.decode(column: "nameless", as: Bool.self) { fill.displayName = nil }
        try await fillContact(on: db, workspaceId: workspaceId, contactId: contactId, message: fill, at: now)
        return InboundSender(contactId: contactId, identityId: identityId, openConversationId: try row.decode(column: "open_id", as: Int64?.self),
                             isNew: false, hasQueued: try row.decode(column: "queued", as: Bool.self))
    }

    /// The contact's open conversation and whether the identity has queued messages, read again
    /// once the contact is locked: the lookup read them as it took the lock, and a writer that
    /// held the lock meanwhile may have changed them. (PostgreSQL only: SQLite's single writer
    /// serialises whole transactions, so its lookup cannot be overtaken.)
    static func afterLock(on db: any SQLDatabase, contactId: Int64, identityId: Int64) async throws -> (openConversationId: Int64?, hasQueued: Bool) {
        let row = try await db.raw("""
            SELECT (SELECT id FROM conversations WHERE contact_id = \(bind: contactId) AND status = 'open') AS open_id,
                   EXISTS (SELECT 1 FROM messages q WHERE q.identity_id = \(bind: identityId) AND q.status = 'scheduled') AS queued
            """).first()
        let found = try row.required("contact")
        return (try found.decode(column: "open_id", as: Int64?.self), try found.decode(column: "queued", as: Bool.self))
    }

    /// A contact without a phone number gets the sender's, and a nameless one the sender's name.
    /// (The message's phone or name is left out by the caller when the lookup saw no need.)
    static func fillContact(on db: any SQLDatabase, workspaceId: Int64, contactId: Int64, message: InboundMessage, at now: Date) async throws {
        var changed = false
        if let phone = message.phone {
            changed = try await db.raw("""
                UPDATE contacts SET phone = \(bind: phone), phone_digits = \(bind: SearchNormalization.digits(phone)), updated_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: contactId) AND phone IS NULL
                RETURNING id
                """).first() != nil
        }
        if let name = message.displayName {
            let (first, last) = split(name)
            let named = try await db.raw("""
                UPDATE contacts SET first_name = \(bind: first ?? ""), last_name = \(bind: last ?? ""),
                    search_name = \(bind: SearchNormalization.fold((first ?? "") + " " + (last ?? ""))), updated_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: contactId) AND first_name = '' AND last_name = ''
                RETURNING id
                """).first() != nil
            changed = changed || named
        }
        if changed {
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .contactUpdated, subjectId: contactId, payload: ["contactId": contactId], at: now)
        }
    }

    /// "Rosa María Soto" → ("Rosa", "María Soto").
    static func split(_ name: String) -> (String?, String?) {
        let parts = name.split(separator: " ", maxSplits: 1).map(String.init)
        return (parts.first, parts.count > 1 ? parts[1] : nil)
    }
}

/// The sender of an inbound message, as the recording transaction needs to know them.
struct InboundSender {
    let contactId: Int64
    let identityId: Int64
    /// The contact's open conversation, as the lookup saw it.
    var openConversationId: Int64?
    /// Created by this transaction: no other transaction can see the contact yet.
    let isNew: Bool
    /// Agents queued messages for this identity, which the message releases.
    var hasQueued: Bool
}
