import Foundation
import ParleyCore
import SQLKit

/// Appends events in the caller's transaction, so an event exists exactly when its change does.
public enum EventLog {
    @discardableResult
    public static func append(
        on db: any SQLDatabase,
        workspaceId: Int64,
        type: EventType,
        subjectId: Int64? = nil,
        actorUserId: Int64? = nil,
        payload: some Encodable & Sendable,
        at now: Date
    ) async throws -> Int64 {
        let json = try payloadText(payload)
        let row = try await db.raw("""
            INSERT INTO events (workspace_id, type, subject_id, actor_user_id, payload, created_at)
            VALUES (\(bind: workspaceId), \(bind: type.rawValue), \(bind: subjectId), \(bind: actorUserId), \(bind: json), \(bind: now.epochMilliseconds))
            RETURNING id
            """).first()
        return try row.required("event").decode(column: "id", as: Int64.self)
    }

    /// The payload as stored. Most payloads are a few ids (`["messageId": 7]`), written inside
    /// the transaction and so on SQLite's single writer: those are formatted directly, in the
    /// text `JSONEncoder.store` would produce, which took 6% of the writer's time during ingest.
    static func payloadText(_ payload: some Encodable) throws -> String {
        if let ids = payload as? [String: Int64], let text = idsText(ids) { return text }
        return String(decoding: try JSONEncoder.store.encode(payload), as: UTF8.self)
    }

    /// `{"a":1,"b":2}`, keys sorted; nil when a key is not plain ASCII letters, digits and `_`
    /// (one that JSON would escape, or whose order could differ from the encoder's).
    static func idsText(_ ids: [String: Int64]) -> String? {
        var text = "{"
        for (key, value) in ids.sorted(by: { $0.key < $1.key }) {
            guard !key.isEmpty, key.utf8.allSatisfy(Self.isPlainKeyByte) else { return nil }
            if text.utf8.count > 1 { text += "," }
            text += "\"\(key)\":\(value)"
        }
        return text + "}"
    }

    private static func isPlainKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"): true
        default: false
        }
    }

    /// Events of a workspace after `afterId`, oldest first.
    public static func list(in database: any Database, workspaceId: Int64, after afterId: Int64, limit: Int) async throws -> [Event] {
        try await database.read { db in
            try await db.raw("""
                SELECT id, workspace_id, type, subject_id, actor_user_id, payload, created_at FROM events
                WHERE workspace_id = \(bind: workspaceId) AND id > \(bind: afterId)
                ORDER BY id LIMIT \(bind: limit)
                """).all().map { row in
                Event(
                    id: try row.decode(column: "id", as: Int64.self),
                    workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
                    type: try row.decodeEnum(column: "type", as: EventType.self),
                    subjectId: try row.decode(column: "subject_id", as: Int64?.self),
                    actorUserId: try row.decode(column: "actor_user_id", as: Int64?.self),
                    payload: try row.decode(column: "payload", as: String.self),
                    createdAt: try row.decodeDate(column: "created_at")
                )
            }
        }
    }
}

extension JSONEncoder {
    /// The encoder for JSON kept in TEXT columns: stable key order, ISO dates.
    static let store: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
}

extension JSONDecoder {
    static let store: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

/// An empty JSON object payload.
public struct NoPayload: Codable, Sendable {
    public init() {}
}

extension Optional {
    /// The value, or a `StoreError` saying what was missing.
    func required(_ what: String) throws -> Wrapped {
        guard let row = self else { throw StoreError.notFound(what) }
        return row
    }
}

extension SQLRow {
    func decodeDate(column: String) throws -> Date {
        Date(epochMilliseconds: try decode(column: column, as: Int64.self))
    }

    func decodeOptionalDate(column: String) throws -> Date? {
        try decode(column: column, as: Int64?.self).map(Date.init(epochMilliseconds:))
    }

    func decodeEnum<E: RawRepresentable>(column: String, as type: E.Type) throws -> E where E.RawValue == String {
        let raw = try decode(column: column, as: String.self)
        guard let value = E(rawValue: raw) else {
            throw StoreError.conflict("unexpected value '\(raw)' in column \(column)")
        }
        return value
    }

    func decodeBool(column: String) throws -> Bool {
        // SQLite stores booleans as integers; PostgreSQL as booleans.
        if let flag = try? decode(column: column, as: Bool.self) { return flag }
        return try decode(column: column, as: Int64.self) != 0
    }
}
