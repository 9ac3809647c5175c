import Foundation
import ParleyCore
import ParleyStore
import SQLKit

/// Fills a workspace with realistic data quickly: multi-row inserts in large transactions,
/// bypassing per-row events (the benchmark measures reads and ingest, not the seed).
struct Seeder {
    let database: any Database
    let workspaceId: Int64
    let userIds: [Int64]
    let channels: [(id: Int64, kind: ChannelKind)]
    var random = SplitMix64(seed: 42)

    /// A repeatable number in `0..<bound`.
    mutating func roll(below bound: Int) -> Int {
        let value: UInt64 = random.next()
        return Int(value % UInt64(bound))
    }

    static let firstNames = ["José", "María", "Lucía", "Ana", "Pedro", "Jörg", "Zoë", "Chloé", "Søren", "Ángel", "Noémie", "François",
                             "Ivan", "Mei", "Aiko", "Omar", "Fatima", "John", "Emily", "Raúl", "Inés", "Björn", "Łukasz", "Dvořák"]
    static let lastNames = ["García", "Núñez", "Fernández", "López", "Müller", "Østergaard", "Dubois", "Martínez", "Smith", "Kowalski",
                            "Rossi", "Nakamura", "Chen", "Silva", "Gonçalves", "Öztürk", "Johansson", "Brown", "Pérez", "Hernández"]

    static let syllables = ["ba", "ré", "to", "ñu", "ka", "lö", "mi", "sa", "ve", "dú", "ko", "ri", "ta", "zé", "po", "lu", "ne", "gá",
                            "fi", "mo", "ch", "xa", "yo", "wi", "be", "da", "ja", "ké", "qu", "hu"]

    /// The first workspace of a seeded database, with its users and channels.
    static func existing(database: any Database) async throws -> Seeder {
        try await database.read { db in
            guard let workspace = try await db.raw("SELECT id FROM workspaces ORDER BY id LIMIT 1").first()?.decode(column: "id", as: Int64.self) else {
                throw StoreError.notFound("workspace")
            }
            let users = try await db.raw("SELECT id FROM users WHERE workspace_id = \(bind: workspace) ORDER BY id").all()
                .map { try $0.decode(column: "id", as: Int64.self) }
            let channels = try await db.raw("SELECT id, kind FROM channels WHERE workspace_id = \(bind: workspace) ORDER BY id").all().map { row in
                (id: try row.decode(column: "id", as: Int64.self), kind: ChannelKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .sms)
            }
            return Seeder(database: database, workspaceId: workspace, userIds: users, channels: channels)
        }
    }

    /// Creates the workspace, users and channels to seed into.
    static func prepare(database: any Database, now: Date) async throws -> Seeder {
        let workspaces = WorkspaceRepository(database: database)
        let created = try await workspaces.createWithOwner(name: "Bench", ownerEmail: "owner-\(UUID().uuidString.prefix(8))@bench.local", ownerName: "Owner",
                                                           ownerPasswordHash: "x", at: now)
        var users = [created.owner.id]
        for index in 0..<9 {
            users.append(try await UserRepository(database: database).create(
                workspaceId: created.workspace.id, email: "agent\(index)-\(UUID().uuidString.prefix(8))@bench.local", name: "Agent \(index)",
                passwordHash: "x", role: .agent, actorUserId: nil, at: now).id)
        }
        var channels: [(Int64, ChannelKind)] = []
        for kind in [ChannelKind.whatsapp, .messenger, .telegram, .viber, .wechat, .sms] {
            let channel = try await ChannelRepository(database: database).create(
                workspaceId: created.workspace.id, kind: kind, name: kind.rawValue, credentials: [:], apiBaseUrl: nil, actorUserId: nil, at: now)
            channels.append((channel.id, kind))
        }
        return Seeder(database: database, workspaceId: created.workspace.id, userIds: users, channels: channels)
    }

    /// Adds contacts `from..<to`, each with an identity, a conversation and `messagesPerContact` messages.
    mutating func seed(from: Int, to: Int, messagesPerContact: Int, now: Date) async throws {
        let batch = 1000
        var start = from
        while start < to {
            let end = min(to, start + batch)
            try await insertBatch(start..<end, messagesPerContact: messagesPerContact, now: now)
            start = end
        }
    }

    private mutating func insertBatch(_ range: Range<Int>, messagesPerContact: Int, now: Date) async throws {
        struct Row: Sendable {
            let first: String, last: String, email: String, phone: String, channel: (id: Int64, kind: ChannelKind)
            let assignee: Int64?, open: Bool, lastActivity: Int64, lastInbound: Int64
        }
        var rows: [Row] = []
        let nowMs = now.epochMilliseconds
        for index in range {
            // Names combine a common name with syllables, so that, as in real customer bases,
            // a typical search term matches a small share of contacts.
            let first = Self.firstNames[roll(below: Self.firstNames.count)]
            let family = Self.lastNames[roll(below: Self.lastNames.count)]
            let syllable1 = Self.syllables[roll(below: Self.syllables.count)]
            let syllable2 = Self.syllables[roll(below: Self.syllables.count)]
            let last = family + "-" + syllable1 + syllable2
            let phone = "+1" + String(format: "%010d", 2_000_000_000 + index)
            let ago = Int64(roll(below: 30 * 86_400_000))
            let assignee: Int64? = roll(below: 3) == 0 ? nil : userIds[roll(below: userIds.count)]
            rows.append(Row(first: first, last: last, email: "c\(index)@example.com", phone: phone,
                            channel: channels[index % channels.count],
                            assignee: assignee,
                            open: roll(below: 3) != 0, lastActivity: nowMs - ago, lastInbound: nowMs - ago))
        }
        let workspaceId = self.workspaceId
        try await database.transaction { [rows] db in
            let contactValues = SQLList(rows.map { row in
                SQLGroupExpression([
                    SQLBind(workspaceId), SQLBind(row.first), SQLBind(row.last), SQLBind(row.email), SQLBind(row.email), SQLBind(row.phone),
                    SQLBind(SearchNormalization.digits(row.phone)), SQLBind(SearchNormalization.fold(row.first + " " + row.last)),
                    SQLBind(nowMs), SQLBind(nowMs),
                ])
            })
            let contactIds = try await db.raw("""
                INSERT INTO contacts (workspace_id, first_name, last_name, email, email_lower, phone, phone_digits, search_name, created_at, updated_at)
                VALUES \(contactValues) RETURNING id
                """).all().map { try $0.decode(column: "id", as: Int64.self) }
            let identityValues = SQLList(zip(rows, contactIds).map { row, id in
                SQLGroupExpression([SQLBind(workspaceId), SQLBind(id), SQLBind(row.channel.id), SQLBind(row.phone + "-\(row.channel.id)"),
                                    SQLBind(row.lastInbound), SQLBind(nowMs)])
            })
            let identityIds = try await db.raw("""
                INSERT INTO contact_identities (workspace_id, contact_id, channel_id, external_id, last_inbound_at, created_at)
                VALUES \(identityValues) RETURNING id
                """).all().map { try $0.decode(column: "id", as: Int64.self) }
            let conversationValues = SQLList(zip(zip(rows, contactIds), identityIds).map { pair, identityId in
                let (row, id) = pair
                return SQLGroupExpression([
                    SQLBind(workspaceId), SQLBind(id), SQLBind(row.open ? "open" : "closed"), SQLBind(true), SQLBind(row.assignee),
                    SQLBind(row.channel.id), SQLBind(identityId), SQLBind(row.lastActivity - 3_600_000), SQLBind(row.lastActivity),
                    SQLBind(row.open ? row.lastActivity : nil), SQLBind("Hola, ¿me ayudan con mi pedido?"), SQLBind(row.open ? 1 : 0),
                ])
            })
            let conversationIds = try await db.raw("""
                INSERT INTO conversations (workspace_id, contact_id, status, is_latest, assignee_id, channel_id, identity_id, opened_at,
                                           last_activity_at, waiting_since, last_message_preview, unread_count)
                VALUES \(conversationValues) RETURNING id
                """).all().map { try $0.decode(column: "id", as: Int64.self) }
            guard messagesPerContact > 0 else { return }
            var messageRows: [any SQLExpression] = []
            for (index, row) in rows.enumerated() {
                for m in 0..<messagesPerContact {
                    let at = row.lastActivity - Int64(messagesPerContact - m) * 60_000
                    messageRows.append(SQLGroupExpression([
                        SQLBind(workspaceId), SQLBind(contactIds[index]), SQLBind(conversationIds[index]), SQLBind(row.channel.id),
                        SQLBind(identityIds[index]), SQLBind(m % 2 == 0 ? "inbound" : "outbound"), SQLBind(m % 2 == 0 ? "contact" : "user"),
                        SQLBind("text"), SQLBind("Mensaje \(m) sobre el pedido"), SQLBind(m % 2 == 0 ? "received" : "delivered"),
                        SQLBind(m % 2 == 0 ? "p-\(contactIds[index])-\(m)" : nil), SQLBind(at), SQLBind(at),
                    ]))
                }
            }
            // Bounded statement size: a few thousand rows per INSERT.
            var offset = 0
            while offset < messageRows.count {
                let slice = Array(messageRows[offset..<min(messageRows.count, offset + 2000)])
                try await db.raw("""
                    INSERT INTO messages (workspace_id, contact_id, conversation_id, channel_id, identity_id, direction, sender_kind, content_kind,
                                          text, status, provider_message_id, created_at, updated_at)
                    VALUES \(SQLList(slice))
                    """).run()
                offset += 2000
            }
        }
    }
}
