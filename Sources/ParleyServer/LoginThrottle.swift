import Foundation

/// Slows down password guessing: after a few failed logins for an address, further attempts are
/// refused for a delay that doubles with each failure, up to a ceiling. A success clears it.
actor LoginThrottle {
    struct Entry {
        var failures: Int
        var lastFailure: Date
        var blockedUntil: Date?
    }

    let freeAttempts: Int
    let baseDelay: TimeInterval
    let maxDelay: TimeInterval
    /// Failures older than this are forgotten.
    let window: TimeInterval
    private var entries: [String: Entry] = [:]

    init(freeAttempts: Int = 5, baseDelay: TimeInterval = 1, maxDelay: TimeInterval = 900, window: TimeInterval = 3600) {
        self.freeAttempts = freeAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.window = window
    }

    /// Seconds the caller must still wait before trying `key` again, or nil.
    func retryAfter(_ key: String, now: Date) -> TimeInterval? {
        guard let entry = entries[key], let until = entry.blockedUntil, until > now else { return nil }
        return until.timeIntervalSince(now)
    }

    func recordFailure(_ key: String, now: Date) {
        var entry = entries[key] ?? Entry(failures: 0, lastFailure: now, blockedUntil: nil)
        if now.timeIntervalSince(entry.lastFailure) > window { entry = Entry(failures: 0, lastFailure: now, blockedUntil: nil) }
        entry.failures += 1
        entry.lastFailure = now
        if entry.failures >= freeAttempts {
            let exponent = Double(min(entry.failures - freeAttempts, 20))
            entry.blockedUntil = now.addingTimeInterval(min(maxDelay, baseDelay * pow(2, exponent)))
        }
        entries[key] = entry
        if entries.count > 100_000 { prune(now: now) }
    }

    func recordSuccess(_ key: String) {
        entries[key] = nil
    }

    private func prune(now: Date) {
        entries = entries.filter { now.timeIntervalSince($0.value.lastFailure) <= window }
    }
}
