import Foundation
import ParleyCore
import SQLKit

/// Where an event stands in the stream. On PostgreSQL the stream is ordered by the writing
/// transaction's id, then the event id; on SQLite (one writer) by id alone, with `tx` 0.
public struct EventPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var tx: UInt64
    public var id: Int64

    public init(tx: UInt64, id: Int64) {
        self.tx = tx
        self.id = id
    }

    public static let start = EventPosition(tx: 0, id: 0)

    public static func < (lhs: EventPosition, rhs: EventPosition) -> Bool {
        (lhs.tx, lhs.id) < (rhs.tx, rhs.id)
    }

    public var description: String { "\(tx):\(id)" }
}

/// An event with its place in the stream.
public struct FeedEvent: Sendable, Equatable {
    public let position: EventPosition
    public let event: Event
}

/// The next events after a position, and whether newer ones exist that cannot be delivered yet
/// (a transaction that started before them is still running).
public struct FeedBatch: Sendable {
    public var events: [FeedEvent]
    public var heldBack: Bool
}

/// Reads the events table as a stream that never skips an event.
///
/// PostgreSQL draws event ids before commit, so id 11 can become visible after id 12 has been
/// read. Ordering by id and remembering the last one would then lose 11 forever. Instead each
/// event records its transaction id (`tx`), and the feed only returns events whose transaction
/// is older than the oldest one still running (the horizon): those are final, and any
/// transaction that commits later has a larger `tx`, so it sorts after everything returned.
public struct EventFeed: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    static let columns = "e.id, e.workspace_id, e.type, e.subject_id, e.actor_user_id, e.payload, e.created_at"

    /// The position of the newest event that can be delivered now (`.start` when there is none).
    public func head() async throws -> EventPosition {
        let kind = database.kind
        return try await database.read { db in
            switch kind {
            case .postgres:
                let horizon = try await Self.horizon(db)
                let row = try await db.raw("""
                    SELECT e.tx::text AS tx, e.id FROM events e
                    WHERE e.tx < CAST(\(bind: String(horizon)) AS xid8) ORDER BY e.tx DESC, e.id DESC LIMIT 1
                    """).first()
                return try row.map(Self.position) ?? .start
            case .sqlite:
                let row = try await db.raw("SELECT max(id) AS id FROM events").first()
                return EventPosition(tx: 0, id: try row?.decode(column: "id", as: Int64?.self) ?? 0)
            }
        }
    }

    /// The position of a workspace's event, or nil when it is not kept (pruned, or never
    /// existed in that workspace): the client must then reload instead of resuming.
    public func position(ofEvent id: Int64, workspaceId: Int64) async throws -> EventPosition? {
        let kind = database.kind
        return try await database.read { db in
            let tx = kind == .postgres ? "e.tx::text AS tx" : "'0' AS tx"
            return try await db.raw("""
                SELECT \(unsafeRaw: tx), e.id FROM events e WHERE e.id = \(bind: id) AND e.workspace_id = \(bind: workspaceId)
                """).first().map(Self.position)
        }
    }

    /// Up to `limit` events after `position`, of one workspace or of all, in stream order.
    public func read(after position: EventPosition, workspaceId: Int64? = nil, limit: Int) async throws -> FeedBatch {
        let kind = database.kind
        return try await database.read { db in
            var sql: SQLQueryString
            switch kind {
            case .postgres:
                // The horizon is read first, in a statement of its own: every transaction below it
                // had ended by then, so the next statement sees all of their events.
                let horizon = try await Self.horizon(db)
                sql = """
                    SELECT \(unsafeRaw: Self.columns), e.tx::text AS tx, (e.tx < CAST(\(bind: String(horizon)) AS xid8)) AS ready
                    FROM events e
                    WHERE (e.tx, e.id) > (CAST(\(bind: String(position.tx)) AS xid8), \(bind: position.id))
                    """
                if let workspaceId { sql = "\(sql) AND e.workspace_id = \(bind: workspaceId)" }
                sql = "\(sql) ORDER BY e.tx, e.id LIMIT \(bind: limit)"
            case .sqlite:
                sql = "SELECT \(unsafeRaw: Self.columns), '0' AS tx, 1 AS ready FROM events e WHERE e.id > \(bind: position.id)"
                if let workspaceId { sql = "\(sql) AND e.workspace_id = \(bind: workspaceId)" }
                sql = "\(sql) ORDER BY e.id LIMIT \(bind: limit)"
            }
            var batch = FeedBatch(events: [], heldBack: false)
            for row in try await db.raw(sql).all() {
                // Rows are in stream order, so the first one not ready ends what may be delivered.
                guard try row.decodeBool(column: "ready") else {
                    batch.heldBack = true
                    break
                }
                let position = try Self.position(row)
                guard let type = EventType(rawValue: try row.decode(column: "type", as: String.self)) else { continue }
                batch.events.append(FeedEvent(position: position, event: Event(
                    id: position.id,
                    workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
                    type: type,
                    subjectId: try row.decode(column: "subject_id", as: Int64?.self),
                    actorUserId: try row.decode(column: "actor_user_id", as: Int64?.self),
                    payload: try row.decode(column: "payload", as: String.self),
                    createdAt: try row.decodeDate(column: "created_at")
                )))
            }
            return batch
        }
    }

    /// Deletes events older than `cutoff`, oldest first, in batches that each read only the
    /// oldest rows by id (ids grow with time), so no scan of the whole table is needed.
    @discardableResult
    public func prune(olderThan cutoff: Date, batchSize: Int = 5000) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await database.transaction { db in
                try await db.raw("""
                    DELETE FROM events WHERE id IN (
                        SELECT id FROM (SELECT id, created_at FROM events ORDER BY id LIMIT \(bind: batchSize)) oldest
                        WHERE created_at < \(bind: cutoff.epochMilliseconds))
                    RETURNING id
                    """).all().count
            }
            total += deleted
            if deleted < batchSize { return total }
        }
    }

    /// The oldest transaction of this database that may still commit events (or the next one to
    /// start, when none is running). Transactions of other databases on the same server cannot
    /// write these events, so unlike the server-wide `pg_snapshot_xmin` they hold nothing back;
    /// when some session of this database belongs to another role (whose transaction ids are
    /// hidden from us), the server-wide horizon is used instead.
    static func horizon(_ db: any SQLDatabase) async throws -> UInt64 {
        let row = try await db.raw("""
            SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS next, pg_snapshot_xmin(pg_current_snapshot())::text AS global,
                   (SELECT min(backend_xid::text::bigint) FROM pg_stat_activity
                     WHERE datname = current_database() AND backend_xid IS NOT NULL) AS oldest,
                   (SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND usesysid IS NOT NULL AND usename <> current_user) AS hidden
            """).first()
        guard let row, let next = UInt64(try row.decode(column: "next", as: String.self)),
              let global = UInt64(try row.decode(column: "global", as: String.self)) else {
            throw StoreError.conflict("cannot read the transaction horizon")
        }
        if try row.decode(column: "hidden", as: Int64.self) > 0 { return global }
        guard let oldest = try row.decode(column: "oldest", as: Int64?.self).map(UInt64.init) else { return next }
        // pg_stat_activity shows 32-bit ids: place it in the epoch of `next` (or the one before,
        // if the counter wrapped since it started).
        let epoch = next >> 32
        let full = oldest <= (next & 0xFFFF_FFFF) ? (epoch << 32 | oldest) : ((epoch &- 1) << 32 | oldest)
        return min(full, next)
    }

    static func position(_ row: any SQLRow) throws -> EventPosition {
        let raw = try row.decode(column: "tx", as: String.self)
        guard let tx = UInt64(raw) else { throw StoreError.conflict("unexpected transaction id '\(raw)'") }
        return EventPosition(tx: tx, id: try row.decode(column: "id", as: Int64.self))
    }
}
