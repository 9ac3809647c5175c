import Foundation
import ParleyCore

/// Website chat is Parley's own channel: there is no provider to call. The outbox "sends" an
/// agent's message by marking it sent; the visitor's widget receives it from the event stream
/// and acknowledges it (delivered, then read) itself. Visitors write through the widget's own
/// routes, never through a webhook.
public struct WebchatAdapter: ChannelAdapter {
    public init() {}

    public var kind: ChannelKind { .webchat }
    public var requiredCredentials: [String] { [] }

    public func verify(_ request: WebhookRequest, channel: ChannelConfig) throws {
        throw ChannelError.unauthorized("website chat channels take no webhooks")
    }

    public func parse(_ request: WebhookRequest, channel: ChannelConfig) throws -> [InboundEvent] { [] }

    public func send(_ delivery: OutboundDelivery, channel: ChannelConfig, http: ProviderHTTP) async -> ProviderResult {
        .sent(providerMessageId: "webchat-\(delivery.messageId)")
    }

    /// Marking a message sent twice changes nothing.
    public var deduplicatesByKey: Bool { true }
}
