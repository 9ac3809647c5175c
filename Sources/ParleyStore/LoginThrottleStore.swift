import Foundation
import SQLKit

/// Failed sign-ins, counted per key (`email:…`, `client:…`) in the database so that every
/// instance behind a load balancer enforces the same limits. After `freeAttempts` failures in
/// `window`, a key is blocked for a delay that doubles with each further failure, up to `maxDelay`.
public struct LoginThrottleStore: Sendable {
    public struct Policy: Sendable {
        public var freeAttempts: Int
        public var baseDelay: TimeInterval = 1
        public var maxDelay: TimeInterval = 900
        /// Failures older than this are forgotten.
        public var window: TimeInterval = 3600

        public init(freeAttempts: Int, baseDelay: TimeInterval = 1, maxDelay: TimeInterval = 900, window: TimeInterval = 3600) {
            self.freeAttempts = freeAttempts
            self.baseDelay = baseDelay
            self.maxDelay = maxDelay
            self.window = window
        }
    }

    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    /// Seconds before `key` may be tried again, or nil when it is not blocked.
    public func retryAfter(_ key: String, now: Date) async throws -> TimeInterval? {
        let until = try await database.read { db in
            try await db.raw("SELECT blocked_until FROM login_throttle WHERE key = \(bind: key)").first()?
                .decode(column: "blocked_until", as: Int64?.self)
        }
        guard let until = until ?? nil, until > now.epochMilliseconds else { return nil }
        return Double(until - now.epochMilliseconds) / 1000
    }

    /// Counts a failure in one statement (instances racing each count theirs) and blocks the key
    /// once it is over the policy's free attempts.
    public func recordFailure(_ key: String, policy: Policy, now: Date) async throws {
        let nowMs = now.epochMilliseconds
        let staleBefore = now.addingTimeInterval(-policy.window).epochMilliseconds
        try await database.transaction { db in
            let failures = try await db.raw("""
                INSERT INTO login_throttle (key, failures, last_failure_at, blocked_until) VALUES (\(bind: key), 1, \(bind: nowMs), NULL)
                ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN login_throttle.last_failure_at < \(bind: staleBefore) THEN 1 ELSE login_throttle.failures + 1 END,
                    last_failure_at = \(bind: nowMs)
                RETURNING failures
                """).first()?.decode(column: "failures", as: Int.self) ?? 1
            guard failures >= policy.freeAttempts else { return }
            let exponent = Double(min(failures - policy.freeAttempts, 20))
            let delay = min(policy.maxDelay, policy.baseDelay * pow(2, exponent))
            try await db.raw("""
                UPDATE login_throttle SET blocked_until = \(bind: now.addingTimeInterval(delay).epochMilliseconds) WHERE key = \(bind: key)
                """).run()
            // Old entries go with the writes that make new ones, so the table stays small.
            try await db.raw("DELETE FROM login_throttle WHERE last_failure_at < \(bind: staleBefore) AND key <> \(bind: key)").run()
        }
    }

    /// A successful sign-in: the email's failures are forgiven, and the client is remembered as
    /// one this user signs in from.
    public func recordSuccess(emailKey: String, userId: Int64, client: String, now: Date) async throws {
        try await database.transaction { db in
            try await db.raw("DELETE FROM login_throttle WHERE key = \(bind: emailKey)").run()
            try await db.raw("""
                INSERT INTO login_known_clients (user_id, client, last_success_at) VALUES (\(bind: userId), \(bind: client), \(bind: now.epochMilliseconds))
                ON CONFLICT (user_id, client) DO UPDATE SET last_success_at = excluded.last_success_at
                """).run()
        }
    }

    /// Whether the user has signed in successfully from this client within `within`.
    public func isKnownClient(userId: Int64, client: String, within: TimeInterval, now: Date) async throws -> Bool {
        try await database.read { db in
            try await db.raw("""
                SELECT 1 AS known FROM login_known_clients
                WHERE user_id = \(bind: userId) AND client = \(bind: client) AND last_success_at >= \(bind: now.addingTimeInterval(-within).epochMilliseconds)
                """).first() != nil
        }
    }
}
