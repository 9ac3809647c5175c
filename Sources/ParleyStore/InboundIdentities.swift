import Foundation
import ParleyCore
import SQLKit

/// Finds the identity an inbound message comes from and brings it up to date with what the
/// message tells: a second address, a phone number, a name.
enum InboundIdentities {
    /// The sender's contact, identity and open conversation, if the sender is known by either of
    /// the message's addresses.
    static func find(on db: any SQLDatabase, workspaceId: Int64, message: InboundMessage, at now: Date) async throws -> (Int64, Int64, Int64?)? {
        let addresses = [message.externalId] + (message.aliasId.map { [$0] } ?? [])
        let list = SQLList(addresses.map { SQLBind($0) })
        // The identity whose address is exactly the sender's comes first.
        guard let row = try await db.raw("""
            SELECT i.id, i.contact_id, i.external_id, i.alias_id, i.phone_digits, c.id AS open_id FROM contact_identities i
            LEFT JOIN conversations c ON c.contact_id = i.contact_id AND c.status = 'open'
            WHERE i.channel_id = \(bind: message.channelId) AND i.workspace_id = \(bind: workspaceId)
              AND (i.external_id IN (\(list)) OR i.alias_id IN (\(list)))
            ORDER BY CASE WHEN i.external_id = \(bind: message.externalId) THEN 0 ELSE 1 END, i.id
            LIMIT 1
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
        try await fillContact(on: db, workspaceId: workspaceId, contactId: contactId, message: message, at: now)
        return (contactId, identityId, try row.decode(column: "open_id", as: Int64?.self))
    }

    /// A contact without a phone number gets the sender's, and a nameless one the sender's name.
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
