import Foundation
import ParleyCore
import SQLKit

/// An outgoing webhook subscription. The signing secret is stored (it signs every delivery)
/// but only returned once, when the subscription is created.
public struct WebhookSubscription: Sendable, Equatable {
    public let id: Int64
    public let workspaceId: Int64
    public let url: String
    public let eventTypes: [String]
    public let enabled: Bool
    public let createdAt: Date
}

public struct WebhookDelivery: Sendable, Equatable {
    public let id: Int64
    public let subscriptionId: Int64
    public let eventId: Int64
    public let eventType: String
    public let status: String
    public let attempts: Int
    public let responseCode: Int?
    public let lastError: String?
    public let nextAttemptAt: Date?
    public let createdAt: Date
    public let deliveredAt: Date?
}

/// A delivery claimed for an attempt, with what it takes to send it.
public struct WebhookJob: Sendable {
    public let deliveryId: Int64
    public let url: String
    public let secret: String
    public let payload: String
    public let attempt: Int
}

/// Outgoing webhooks: subscriptions, and deliveries kept as durable rows with retries and a
/// log of responses, claimed with a lease like the outbox.
public struct WebhookRepository: Sendable {
    public let database: any Database
    public static let consumer = "webhooks"
    public static let maxAttempts = 8
    public static let lease: TimeInterval = 60

    public init(database: any Database) {
        self.database = database
    }

    static let subscriptionColumns = "id, workspace_id, url, event_types, enabled, created_at"
    static let deliveryColumns = """
        id, subscription_id, event_id, event_type, status, attempts, response_code, last_error, next_attempt_at, created_at, delivered_at
        """

    public func create(workspaceId: Int64, url: String, eventTypes: [String], secret: String, at now: Date) async throws -> WebhookSubscription {
        let types = String(decoding: try JSONEncoder.store.encode(eventTypes), as: UTF8.self)
        return try await database.transaction { db in
            try await db.raw("""
                INSERT INTO webhook_subscriptions (workspace_id, url, event_types, secret, enabled, created_at)
                VALUES (\(bind: workspaceId), \(bind: url), \(bind: types), \(bind: secret), \(bind: true), \(bind: now.epochMilliseconds))
                RETURNING \(unsafeRaw: Self.subscriptionColumns)
                """).first().required("subscription")
        }.decodeSubscription()
    }

    public func list(workspaceId: Int64) async throws -> [WebhookSubscription] {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.subscriptionColumns) FROM webhook_subscriptions WHERE workspace_id = \(bind: workspaceId) ORDER BY id")
                .all().map { try $0.decodeSubscription() }
        }
    }

    public func find(id: Int64, workspaceId: Int64) async throws -> WebhookSubscription? {
        try await database.read { db in
            try await db.raw("""
                SELECT \(unsafeRaw: Self.subscriptionColumns) FROM webhook_subscriptions WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId)
                """).first().map { try $0.decodeSubscription() }
        }
    }

    public func delete(id: Int64, workspaceId: Int64) async throws -> Bool {
        try await database.transaction { db in
            try await db.raw("DELETE FROM webhook_subscriptions WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId) RETURNING id").first() != nil
        }
    }

    /// Inside the cursor's transaction: one delivery per subscription of the event's workspace
    /// that wants its type. The unique (subscription, event) index makes a repeat a no-op.
    public static func enqueue(on db: any SQLDatabase, event: Event, at now: Date) async throws {
        let subscriptions = try await db.raw("""
            SELECT id, event_types FROM webhook_subscriptions WHERE workspace_id = \(bind: event.workspaceId) AND enabled = \(bind: true)
            """).all()
        for row in subscriptions {
            let types = try JSONDecoder.store.decode([String].self, from: Data(try row.decode(column: "event_types", as: String.self).utf8))
            guard types.contains(event.type.rawValue) || types.contains("*") else { continue }
            let payload = "{\"id\":\(event.id),\"type\":\(quoted(event.type.rawValue)),\"workspaceId\":\(event.workspaceId),"
                + "\"createdAt\":\(quoted(ISO8601DateFormatter().string(from: event.createdAt))),\"data\":\(event.payload)}"
            try await db.raw("""
                INSERT INTO webhook_deliveries (workspace_id, subscription_id, event_id, event_type, payload, status, next_attempt_at, created_at)
                VALUES (\(bind: event.workspaceId), \(bind: try row.decode(column: "id", as: Int64.self)), \(bind: event.id), \(bind: event.type.rawValue),
                        \(bind: payload), 'pending', \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
                ON CONFLICT DO NOTHING
                """).run()
        }
    }

    static func quoted(_ text: String) -> String {
        "\"" + WorkflowVariables.jsonEscaped(text) + "\""
    }

    /// Claims due deliveries for one attempt each.
    public func claim(limit: Int, now: Date) async throws -> [WebhookJob] {
        let nowMs = now.epochMilliseconds
        let due = try await database.read { db in
            try await db.raw("SELECT id FROM webhook_deliveries WHERE next_attempt_at <= \(bind: nowMs) LIMIT 1").first() != nil
        }
        guard due else { return [] }
        let skipLocked = database.facts.forUpdateSkipLocked
        return try await database.transaction { db in
            let ids = try await db.raw("""
                SELECT id FROM webhook_deliveries
                WHERE next_attempt_at <= \(bind: nowMs) AND (locked_until IS NULL OR locked_until <= \(bind: nowMs))
                ORDER BY next_attempt_at, id LIMIT \(bind: limit) \(unsafeRaw: skipLocked)
                """).all().map { try $0.decode(column: "id", as: Int64.self) }
            guard !ids.isEmpty else { return [] }
            let list = SQLList(ids.map { SQLBind($0) })
            try await db.raw("""
                UPDATE webhook_deliveries SET attempts = attempts + 1, locked_until = \(bind: nowMs + Int64(Self.lease * 1000)) WHERE id IN (\(list))
                """).run()
            return try await db.raw("""
                SELECT d.id, d.payload, d.attempts, s.url, s.secret FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
                WHERE d.id IN (\(list)) ORDER BY d.id
                """).all().map { row in
                WebhookJob(deliveryId: try row.decode(column: "id", as: Int64.self), url: try row.decode(column: "url", as: String.self),
                           secret: try row.decode(column: "secret", as: String.self), payload: try row.decode(column: "payload", as: String.self),
                           attempt: try row.decode(column: "attempts", as: Int.self))
            }
        }
    }

    /// Records an attempt: delivered on a 2xx, otherwise retried after 2, 4, 8 … seconds (at
    /// most an hour) until ``maxAttempts``, then failed.
    public func conclude(_ job: WebhookJob, responseCode: Int?, error: String?, at now: Date) async throws {
        let delivered = responseCode.map { (200..<300).contains($0) } ?? false
        let exhausted = job.attempt >= Self.maxAttempts
        let status = delivered ? "delivered" : (exhausted ? "failed" : "pending")
        let next: Int64? = delivered || exhausted ? nil : now.epochMilliseconds + Int64(min(3600, 2 * pow(2, Double(job.attempt - 1))) * 1000)
        try await database.transaction { db in
            try await db.raw("""
                UPDATE webhook_deliveries SET status = \(bind: status), response_code = \(bind: responseCode), last_error = \(bind: error.map { String($0.prefix(500)) }),
                    next_attempt_at = \(bind: next), locked_until = NULL, delivered_at = \(bind: delivered ? now.epochMilliseconds : nil)
                WHERE id = \(bind: job.deliveryId)
                """).run()
        }
    }

    /// A subscription's deliveries, newest first.
    public func deliveries(subscriptionId: Int64, workspaceId: Int64, beforeId: Int64?, limit: Int) async throws -> [WebhookDelivery] {
        try await database.read { db in
            try await db.raw("""
                SELECT \(unsafeRaw: Self.deliveryColumns) FROM webhook_deliveries
                WHERE subscription_id = \(bind: subscriptionId) AND workspace_id = \(bind: workspaceId) AND id < \(bind: beforeId ?? Int64.max)
                ORDER BY id DESC LIMIT \(bind: limit)
                """).all().map { try $0.decodeDelivery() }
        }
    }

    /// Sends a delivery again now, whatever became of it, with a fresh count of attempts.
    public func replay(id: Int64, workspaceId: Int64, at now: Date) async throws -> WebhookDelivery? {
        try await database.transaction { db in
            try await db.raw("""
                UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = \(bind: now.epochMilliseconds), locked_until = NULL
                WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId)
                RETURNING \(unsafeRaw: Self.deliveryColumns)
                """).first().map { try $0.decodeDelivery() }
        }
    }
}

extension SQLRow {
    func decodeSubscription() throws -> WebhookSubscription {
        WebhookSubscription(
            id: try decode(column: "id", as: Int64.self), workspaceId: try decode(column: "workspace_id", as: Int64.self),
            url: try decode(column: "url", as: String.self),
            eventTypes: try JSONDecoder.store.decode([String].self, from: Data(try decode(column: "event_types", as: String.self).utf8)),
            enabled: try decodeBool(column: "enabled"), createdAt: try decodeDate(column: "created_at"))
    }

    func decodeDelivery() throws -> WebhookDelivery {
        WebhookDelivery(
            id: try decode(column: "id", as: Int64.self), subscriptionId: try decode(column: "subscription_id", as: Int64.self),
            eventId: try decode(column: "event_id", as: Int64.self), eventType: try decode(column: "event_type", as: String.self),
            status: try decode(column: "status", as: String.self), attempts: try decode(column: "attempts", as: Int.self),
            responseCode: try decode(column: "response_code", as: Int?.self), lastError: try decode(column: "last_error", as: String?.self),
            nextAttemptAt: try decodeOptionalDate(column: "next_attempt_at"), createdAt: try decodeDate(column: "created_at"),
            deliveredAt: try decodeOptionalDate(column: "delivered_at"))
    }
}
