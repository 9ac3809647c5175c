import Foundation
import Synchronization

/// Token buckets for the widget's public routes, per visitor and per client address. Kept in
/// this instance's memory: a visitor sticks to a few requests a minute, and an abuser spread
/// over several instances still meets each one's limit.
final class WidgetRateLimiter: Sendable {
    struct Limit: Sendable {
        /// Requests allowed at once.
        let burst: Double
        /// Requests regained per second.
        let perSecond: Double
    }

    /// A visitor's messages: 10 at once, then one every 3 seconds.
    static let visitorMessages = Limit(burst: 10, perSecond: 1.0 / 3)
    /// Everything one address sends to the widget's routes (many visitors may share an office's address).
    static let address = Limit(burst: 120, perSecond: 2)
    /// New visitors from one address.
    static let newVisitors = Limit(burst: 30, perSecond: 0.2)

    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    private let capacity: Int

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    /// Takes one request from `key`'s bucket; returns the seconds to wait when it is empty.
    /// Time comes from the server's clock (a clock set back refills nothing).
    func take(_ key: String, _ limit: Limit, now: Date) -> TimeInterval? {
        buckets.withLock { buckets in
            if buckets.count >= capacity { Self.evictFull(&buckets, limit: limit, now: now) }
            var bucket = buckets[key] ?? Bucket(tokens: limit.burst, updated: now)
            let seconds = max(0, now.timeIntervalSince(bucket.updated))
            bucket.tokens = min(limit.burst, bucket.tokens + seconds * limit.perSecond)
            bucket.updated = max(now, bucket.updated)
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return (1 - bucket.tokens) / limit.perSecond
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            return nil
        }
    }

    /// Forgets buckets that have refilled (they hold nothing a new bucket would not).
    private static func evictFull(_ buckets: inout [String: Bucket], limit: Limit, now: Date) {
        buckets = buckets.filter { _, bucket in now.timeIntervalSince(bucket.updated) < limit.burst / limit.perSecond }
    }
}
