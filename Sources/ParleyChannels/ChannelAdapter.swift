import Foundation
import ParleyCore

/// A webhook call as the adapters see it.
public struct WebhookRequest: Sendable {
    public var method: String
    /// The full public URL the provider called (signatures such as Twilio's cover it).
    public var url: String
    public var query: [String: String]
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, url: String, query: [String: String], headers: [String: String], body: [UInt8]) {
        self.method = method
        self.url = url
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// What a webhook answers the provider.
public struct WebhookReply: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: String

    public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: String = "") {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public static let ok = WebhookReply(status: 200, contentType: "application/json", body: "{}")
    public static let forbidden = WebhookReply(status: 403, body: "forbidden")
}

/// A channel's configuration as its adapter needs it.
public struct ChannelConfig: Sendable {
    public var id: Int64
    public var workspaceId: Int64
    public var kind: ChannelKind
    public var credentials: [String: String]
    public var apiBaseURL: String?
    /// A secret Parley chose for this channel (Telegram's secret token).
    public var webhookSecret: String
    /// Where the provider must send this channel's webhooks.
    public var webhookURL: String

    public init(id: Int64, workspaceId: Int64, kind: ChannelKind, credentials: [String: String], apiBaseURL: String?, webhookSecret: String, webhookURL: String) {
        self.id = id
        self.workspaceId = workspaceId
        self.kind = kind
        self.credentials = credentials
        self.apiBaseURL = apiBaseURL
        self.webhookSecret = webhookSecret
        self.webhookURL = webhookURL
    }

    /// A required credential, or a configuration error naming it.
    public func credential(_ name: String) throws -> String {
        guard let value = credentials[name], !value.isEmpty else { throw ChannelError.missingCredential(name) }
        return value
    }

    /// The provider's base URL: the channel's override, or the provider's own.
    public func baseURL(default fallback: String) -> String {
        var base = apiBaseURL ?? fallback
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}

/// Something the provider told us.
public enum InboundEvent: Sendable, Equatable {
    /// A message from a contact.
    case message(InboundMessageEvent)
    /// A delivery report for one of our messages.
    case status(providerMessageId: String, status: DeliveryStatus, reason: FailureReason?, errorCode: String?, errorText: String?)
    /// A contact edited or withdrew one of their messages.
    case revision(InboundRevision)
    /// Every message we sent to `externalId` up to `upTo` reached `status` (Messenger's watermarks).
    case watermark(externalId: String, status: DeliveryStatus, upTo: Date)
}

/// A contact's public profile as a provider's profile API returns it.
public struct ContactProfile: Sendable, Equatable {
    public var firstName: String?
    public var lastName: String?
    /// The whole name when the provider gives only one.
    public var displayName: String?

    public init(firstName: String? = nil, lastName: String? = nil, displayName: String? = nil) {
        func clean(_ value: String?) -> String? {
            let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            return trimmed.isEmpty ? nil : trimmed
        }
        self.firstName = clean(firstName)
        self.lastName = clean(lastName)
        self.displayName = clean(displayName) ?? clean([self.firstName, self.lastName].compactMap { $0 }.joined(separator: " "))
    }

    /// Whether the provider told us any name at all.
    public var isEmpty: Bool { displayName == nil }
}

/// What a profile lookup found.
public enum ProfileLookup: Sendable, Equatable {
    case found(ContactProfile)
    /// The provider has no name for this contact (or will never give one): do not ask again.
    case none
    /// The provider could not answer now: ask again later.
    case retry(String)
}

/// Providers with a profile API for contacts whose messages carry no name.
public protocol ProfileFetching: Sendable {
    func fetchProfile(externalId: String, channel: ChannelConfig, http: ProviderHTTP) async -> ProfileLookup
}

/// Why a message could not be delivered, as Parley names it across providers.
public enum FailureReason: String, Codable, Sendable {
    case templateRequired = "template_required"
    case tagRequired = "tag_required"
    case contactMustReply = "contact_must_reply"
    case viberQuotaExceeded = "viber_quota_exceeded"
    case messageLimit = "message_limit"
    case outsideWindow = "outside_window"
    case blocked
    case invalidRecipient = "invalid_recipient"
    case authenticationFailed = "authentication_failed"
    case rateLimited = "rate_limited"
    case providerError = "provider_error"
    case retriesExhausted = "retries_exhausted"
    /// A previous attempt may have reached the provider; without an idempotency key it is not resent.
    case deliveryUncertain = "delivery_uncertain"
    case misconfigured
}

/// A message to deliver.
public struct OutboundDelivery: Sendable {
    public var messageId: Int64
    /// The recipient's address on the channel.
    public var externalId: String
    public var instructions: DeliveryInstructions
    /// Stable across retries of this message, for providers that deduplicate by key.
    public var idempotencyKey: String
    /// What the thread says about this reply where the channel threads by itself (email: the
    /// subject and the Message-IDs to refer to).
    public var thread: [String: String]
    /// The file sent with the message; the text is its caption.
    public var attachment: OutboundFile?

    public init(messageId: Int64, externalId: String, instructions: DeliveryInstructions, idempotencyKey: String, thread: [String: String] = [:]) {
        self.messageId = messageId
        self.externalId = externalId
        self.instructions = instructions
        self.idempotencyKey = idempotencyKey
        self.thread = thread
    }
}

/// A file to send: its bytes for providers that take uploads, and a signed public link for
/// those that fetch it themselves.
public struct OutboundFile: Sendable {
    public var kind: AttachmentKind
    public var contentType: String
    public var fileName: String
    public var url: String
    public var bytes: [UInt8]

    public init(kind: AttachmentKind, contentType: String, fileName: String, url: String, bytes: [UInt8]) {
        self.kind = kind
        self.contentType = contentType
        self.fileName = fileName
        self.url = url
        self.bytes = bytes
    }
}

/// The provider's answer to a send.
public enum ProviderResult: Sendable, Equatable {
    case sent(providerMessageId: String)
    case failed(reason: FailureReason, code: String, text: String)
    /// A transient failure (timeout, 5xx, 429): try again, after `after` seconds when the provider said.
    case retry(after: TimeInterval?, detail: String)
}

public enum ChannelError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingCredential(String)
    case unauthorized(String)
    case badPayload(String)
    case connectFailed(String)

    public var description: String {
        switch self {
        case .missingCredential(let name): return "the channel has no '\(name)' credential"
        case .unauthorized(let why): return why
        case .badPayload(let why): return why
        case .connectFailed(let why): return why
        }
    }
}

/// One provider's protocol: verify and parse its webhooks, send through its API, and check
/// credentials when a channel is connected. Adding a channel is adding an adapter.
public protocol ChannelAdapter: Sendable {
    var kind: ChannelKind { get }

    /// The names of the credentials a channel of this kind needs.
    var requiredCredentials: [String] { get }

    /// Answers a GET handshake (subscription checks); nil when the provider has none.
    func handshake(_ request: WebhookRequest, channel: ChannelConfig) -> WebhookReply?

    /// Throws ``ChannelError/unauthorized(_:)`` unless the request is signed by the provider.
    func verify(_ request: WebhookRequest, channel: ChannelConfig) throws

    /// For a signature that covers a timestamp and nonce but not the body: those two, so that the
    /// server refuses stale requests and replays; nil when the signature covers the body.
    func replayMarkers(_ request: WebhookRequest) -> WebhookReplayMarkers?

    /// The events in a verified request.
    func parse(_ request: WebhookRequest, channel: ChannelConfig) throws -> [InboundEvent]

    /// What to answer a verified webhook.
    var acknowledgement: WebhookReply { get }

    func send(_ delivery: OutboundDelivery, channel: ChannelConfig, http: ProviderHTTP) async -> ProviderResult

    /// Checks the credentials with the provider and registers the webhook where the provider takes one.
    func connect(channel: ChannelConfig, http: ProviderHTTP) async throws

    /// Whether resending a message after an unknown outcome is safe (the provider deduplicates).
    var deduplicatesByKey: Bool { get }
}

extension ChannelAdapter {
    public func handshake(_ request: WebhookRequest, channel: ChannelConfig) -> WebhookReply? { nil }
    public var acknowledgement: WebhookReply { .ok }
    public func replayMarkers(_ request: WebhookRequest) -> WebhookReplayMarkers? { nil }
    public func connect(channel: ChannelConfig, http: ProviderHTTP) async throws {}
    public var deduplicatesByKey: Bool { false }
}

/// Compares secrets without revealing through timing how much of them matched.
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    var difference = UInt8(x.count == y.count ? 0 : 1)
    for index in 0..<max(x.count, y.count) {
        difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
    }
    return difference == 0
}
