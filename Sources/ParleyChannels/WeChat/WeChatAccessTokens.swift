import Foundation

/// WeChat access tokens, cached per channel for the whole process. WeChat limits how often a
/// token may be fetched and every fetch starts replacing the previous token, so concurrent sends
/// share one fetch instead of each fetching their own.
actor WeChatAccessTokens {
    static let shared = WeChatAccessTokens()

    /// A channel's identity with WeChat. The base URL and credentials are part of it so that a
    /// rotated secret or a different provider endpoint never reuses another key's token.
    struct Key: Hashable, Sendable {
        let channelId: Int64
        let base: String
        let appId: String
        let appSecret: String
    }

    /// What one call to the token endpoint produced.
    enum Fetched: Sendable {
        case token(String, expiresIn: TimeInterval)
        case failed(ProviderResult)
    }

    /// A token could not be had; `result` is what the send (or connect) should report.
    struct Unavailable: Error, Sendable {
        let result: ProviderResult
    }

    /// Refresh this long before WeChat's expiry, so a token never expires between our check and WeChat's.
    static let refreshMargin: TimeInterval = 5 * 60

    private var cached: [Key: (token: String, refreshAt: Date)] = [:]
    private var inFlight: [Key: Task<Fetched, Never>] = [:]
    private let now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// The cached token, or a fresh one from `fetch` (shared with any fetch already running for `key`).
    func token(for key: Key, fetch: @escaping @Sendable () async -> Fetched) async -> Result<String, Unavailable> {
        if let entry = cached[key], entry.refreshAt > now() { return .success(entry.token) }
        let task: Task<Fetched, Never>
        if let running = inFlight[key] {
            task = running
        } else {
            task = Task { await fetch() }
            inFlight[key] = task
        }
        let fetched = await task.value
        // Only the first caller back stores the result: a later one must not reinstate a token
        // that was invalidated in the meantime.
        if inFlight[key] == task {
            inFlight[key] = nil
            if case .token(let token, let expiresIn) = fetched {
                let margin = min(Self.refreshMargin, expiresIn / 2)
                prune()
                cached[key] = (token, now().addingTimeInterval(expiresIn - margin))
            }
        }
        switch fetched {
        case .token(let token, _): return .success(token)
        case .failed(let result): return .failure(Unavailable(result: result))
        }
    }

    /// Forgets `token` after WeChat refused it, unless it was already replaced by a newer one.
    func invalidate(_ key: Key, token: String) {
        if cached[key]?.token == token { cached[key] = nil }
    }

    /// Forgets whatever is cached for `key`, so the next call fetches.
    func invalidate(_ key: Key) {
        cached[key] = nil
    }

    /// Drops expired entries, so channels deleted or re-keyed do not accumulate.
    private func prune() {
        let current = now()
        cached = cached.filter { $0.value.refreshAt > current }
    }
}
