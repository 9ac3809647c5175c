import Foundation

/// What a webhook's signature covers besides the secret when it does not cover the body: the
/// sender's timestamp and a one-time nonce (WeChat's plaintext mode).
public struct WebhookReplayMarkers: Sendable, Equatable {
    public var timestamp: Date
    public var nonce: String

    public init(timestamp: Date, nonce: String) {
        self.timestamp = timestamp
        self.nonce = nonce
    }

    /// How far the sender's clock may be from ours before a request counts as stale.
    public static let maxSkew: TimeInterval = 300
}

extension WeChatAdapter {
    public func replayMarkers(_ request: WebhookRequest) -> WebhookReplayMarkers? {
        guard let raw = request.query["timestamp"], let seconds = Int64(raw), let nonce = request.query["nonce"], !nonce.isEmpty else {
            // Unsigned requests never get this far; an unreadable timestamp is as stale as an old one.
            return WebhookReplayMarkers(timestamp: .distantPast, nonce: request.query["nonce"] ?? "")
        }
        return WebhookReplayMarkers(timestamp: Date(timeIntervalSince1970: TimeInterval(seconds)), nonce: nonce)
    }
}
