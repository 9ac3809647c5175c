import Foundation

/// Meta's message tags. `HUMAN_AGENT` lets a human reply up to 7 days after the contact's last
/// message; the others are for non-promotional updates outside the window (Messenger only).
public enum MessageTag: String, Codable, Sendable, CaseIterable {
    case humanAgent = "HUMAN_AGENT"
    case confirmedEventUpdate = "CONFIRMED_EVENT_UPDATE"
    case postPurchaseUpdate = "POST_PURCHASE_UPDATE"
    case accountUpdate = "ACCOUNT_UPDATE"

    /// The tags a sender may pick after Messenger's human-agent window.
    public static let updateTags: [MessageTag] = [.confirmedEventUpdate, .postPurchaseUpdate, .accountUpdate]
}

/// What the sender asks to send.
public enum RequestedContent: Sendable, Equatable {
    case text
    case template
    case tagged(MessageTag)
}

/// The identity's thread state and the channel's counters the decision needs.
public struct PolicyInput: Sendable {
    public var channel: ChannelKind
    /// The provider timestamp of the contact's last inbound message on this identity.
    public var lastInboundAt: Date?
    /// Outbound messages since that inbound message.
    public var outboundSinceInbound: Int64
    public var now: Date
    public var sender: SenderKind
    public var content: RequestedContent
    /// The UTC month ("2026-11") the Viber count below belongs to.
    public var viberMonth: String?
    public var viberMonthCount: Int64
    public var commercialTermsAccepted: Bool

    public init(channel: ChannelKind, lastInboundAt: Date?, outboundSinceInbound: Int64 = 0, now: Date, sender: SenderKind = .user,
                content: RequestedContent = .text, viberMonth: String? = nil, viberMonthCount: Int64 = 0, commercialTermsAccepted: Bool = false) {
        self.channel = channel
        self.lastInboundAt = lastInboundAt
        self.outboundSinceInbound = outboundSinceInbound
        self.now = now
        self.sender = sender
        self.content = content
        self.viberMonth = viberMonth
        self.viberMonthCount = viberMonthCount
        self.commercialTermsAccepted = commercialTermsAccepted
    }
}

/// How an allowed message must be sent.
public enum SendPlan: Sendable, Equatable {
    /// A plain message; no window applies or the window is open.
    case standard
    /// WhatsApp: an approved template.
    case template
    /// Messenger / Instagram: `messaging_type` and, with `MESSAGE_TAG`, the tag.
    case meta(messagingType: MetaMessagingType, tag: MessageTag?)
    /// Viber outside the session: a chatbot-initiated message, counted against the month's quota.
    case viberChatbotInitiated(billable: Bool)
    /// WeChat outside its window or over its count: recorded but not delivered.
    case recordUndelivered(reason: UndeliveredReason)
}

public enum MetaMessagingType: String, Codable, Sendable {
    case response = "RESPONSE"
    case messageTag = "MESSAGE_TAG"
}

public enum UndeliveredReason: String, Codable, Sendable {
    case outsideWindow = "outside_window"
    case messageLimit = "message_limit"
}

/// Why a message is refused. Raw values are the API's error codes.
public enum RefusalCode: String, Codable, Sendable {
    case templateRequired = "template_required"
    case tagRequired = "tag_required"
    case contactMustReply = "contact_must_reply"
    case viberQuotaExceeded = "viber_quota_exceeded"
    /// The channel has no such kind of message (a template on Telegram, a tag on WhatsApp).
    case unsupportedContent = "unsupported_content"
}

public struct Refusal: Sendable, Equatable {
    public let code: RefusalCode
    /// A sentence for people: the rule, and what is allowed instead.
    public let message: String

    public init(code: RefusalCode, message: String) {
        self.code = code
        self.message = message
    }
}

public enum PolicyDecision: Sendable, Equatable {
    case allowed(SendPlan)
    case refused(Refusal)
}

/// The messaging-window rules of SPEC §3 as one pure function. Each channel's rule reads as
/// one case of the switch in ``decide(_:)``.
public enum WindowPolicy {
    public static let day: TimeInterval = 24 * 3600
    public static let humanAgentWindow: TimeInterval = 7 * day
    public static let weChatWindow: TimeInterval = 48 * 3600
    public static let weChatMessageLimit: Int64 = 20
    public static let viberFreeMonthlyMessages: Int64 = 10_000

    public static func decide(_ input: PolicyInput) -> PolicyDecision {
        // Time since the contact last wrote; nil when they never did (every window is closed).
        let elapsed = input.lastInboundAt.map { input.now.timeIntervalSince($0) }
        func within(_ length: TimeInterval) -> Bool { elapsed.map { $0 < length } ?? false }

        switch input.channel {
        case .telegram, .line, .webchat, .sms, .email:
            guard input.content == .text else { return unsupported(input) }
            return .allowed(.standard)

        case .whatsapp:
            switch input.content {
            case .template: return .allowed(.template)
            case .tagged: return unsupported(input)
            case .text:
                if within(day) { return .allowed(.standard) }
                return refuse(.templateRequired, "WhatsApp's 24-hour window is closed: only an approved message template can be sent until the contact writes again.")
            }

        case .messenger:
            switch input.content {
            case .template: return unsupported(input)
            case .text:
                if within(day) { return .allowed(.meta(messagingType: .response, tag: nil)) }
                if within(humanAgentWindow) {
                    if input.sender == .user { return .allowed(.meta(messagingType: .messageTag, tag: .humanAgent)) }
                    return refuse(.tagRequired, "Past Messenger's 24-hour window only a human agent may reply (HUMAN_AGENT, up to 7 days); automated messages need a message tag: CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE or ACCOUNT_UPDATE.")
                }
                return refuse(.tagRequired, "Messenger's 7-day human-agent window is closed: send a message with a tag (CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE or ACCOUNT_UPDATE), no promotional content.")
            case .tagged(.humanAgent):
                if input.sender != .user {
                    return refuse(.tagRequired, "HUMAN_AGENT is for human agents only; automated messages need CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE or ACCOUNT_UPDATE.")
                }
                if within(humanAgentWindow) { return .allowed(.meta(messagingType: .messageTag, tag: .humanAgent)) }
                return refuse(.tagRequired, "HUMAN_AGENT may be used up to 7 days after the contact's last message; use CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE or ACCOUNT_UPDATE.")
            case .tagged(let tag):
                return .allowed(.meta(messagingType: .messageTag, tag: tag))
            }

        case .instagram:
            switch input.content {
            case .template, .tagged(.confirmedEventUpdate), .tagged(.postPurchaseUpdate), .tagged(.accountUpdate):
                return unsupported(input)
            case .text, .tagged(.humanAgent):
                if within(day) && input.content == .text { return .allowed(.meta(messagingType: .response, tag: nil)) }
                if within(humanAgentWindow) {
                    if input.sender == .user { return .allowed(.meta(messagingType: .messageTag, tag: .humanAgent)) }
                    return refuse(.contactMustReply, "Past Instagram's 24-hour window only a human agent may reply (up to 7 days); automated messages must wait for the contact to write.")
                }
                return refuse(.contactMustReply, "Instagram's 7-day window is closed: nothing can be sent until the contact writes again.")
            }

        case .viber:
            guard input.content == .text else { return unsupported(input) }
            if within(day) { return .allowed(.standard) }
            let used = input.viberMonth == utcMonth(input.now) ? input.viberMonthCount : 0
            if used < viberFreeMonthlyMessages { return .allowed(.viberChatbotInitiated(billable: false)) }
            if input.commercialTermsAccepted { return .allowed(.viberChatbotInitiated(billable: true)) }
            return refuse(.viberQuotaExceeded, "Viber's session is closed and this month's \(viberFreeMonthlyMessages) free chatbot-initiated messages are used up; accept Viber's commercial terms on the channel to send billable messages, or wait for the contact to write.")

        case .wechat:
            guard input.content == .text else { return unsupported(input) }
            if !within(weChatWindow) { return .allowed(.recordUndelivered(reason: .outsideWindow)) }
            if input.outboundSinceInbound >= weChatMessageLimit { return .allowed(.recordUndelivered(reason: .messageLimit)) }
            return .allowed(.standard)
        }
    }

    /// "2026-11": the calendar month in UTC that Viber's quota counts in.
    public static func utcMonth(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        let parts = calendar.dateComponents([.year, .month], from: date)
        return String(format: "%04d-%02d", parts.year ?? 1970, parts.month ?? 1)
    }

    private static func refuse(_ code: RefusalCode, _ message: String) -> PolicyDecision {
        .refused(Refusal(code: code, message: message))
    }

    private static func unsupported(_ input: PolicyInput) -> PolicyDecision {
        let what: String
        switch input.content {
        case .text: what = "text"
        case .template: what = "message templates"
        case .tagged(let tag): what = "the message tag \(tag.rawValue)"
        }
        return refuse(.unsupportedContent, "\(input.channel.rawValue) does not support \(what).")
    }
}
