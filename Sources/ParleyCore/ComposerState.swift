import Foundation

/// What the composer may offer right now.
public enum ComposerMode: String, Codable, Sendable {
    case freeText = "free_text"
    case template
    case taggedMessage = "tagged_message"
    case chatbotInitiated = "chatbot_initiated"
    case none
}

/// The composer's view of one contact identity (SPEC §3): window, allowed modes, and why.
public struct ComposerState: Codable, Sendable, Equatable {
    public var channelType: ChannelKind
    public var window: WindowState
    /// Messenger and Instagram: until when a human agent may still reply with HUMAN_AGENT.
    public var humanAgentUntil: Date?
    /// Allowed modes, the preferred first; `[.none]` when nothing can be sent.
    public var allowed: [ComposerMode]
    /// Message tags that may be used now.
    public var tags: [MessageTag]
    public var viberQuotaLeft: Int64?
    public var weChatMessagesLeft: Int64?
    /// WeChat: a message sent now is recorded but not delivered.
    public var sendsUndelivered: Bool
    /// A sentence for the agent.
    public var reason: String
    /// The files the channel takes from an agent: each kind, its largest size, and whether text
    /// may go with it (a caption).
    public var attachments: [AttachmentRule] = []
    /// Free text cannot go now but may be queued: it is sent when the contact next writes.
    public var canQueue = false
    /// The contact's other identities and what could be sent on each now, the best first.
    public var alternatives: [ReachOption] = []

    /// Evaluates the policy for every kind of content a human agent could send.
    public static func evaluate(_ base: PolicyInput) -> ComposerState {
        func decide(_ content: RequestedContent) -> PolicyDecision {
            var input = base
            input.content = content
            return WindowPolicy.decide(input)
        }
        let window = MessagingWindow.state(kind: base.channel, lastInboundAt: base.lastInboundAt, now: base.now,
                                            outboundSinceInbound: base.outboundSinceInbound)
        var state = ComposerState(channelType: base.channel, window: window, humanAgentUntil: nil, allowed: [], tags: [],
                                  viberQuotaLeft: nil, weChatMessagesLeft: nil, sendsUndelivered: false, reason: "")
        if base.channel == .messenger || base.channel == .instagram {
            state.humanAgentUntil = base.lastInboundAt?.addingTimeInterval(WindowPolicy.humanAgentWindow)
        }
        state.attachments = AttachmentKind.allCases.compactMap { kind in
            AttachmentLimits.outbound(base.channel)[kind].map {
                AttachmentRule(kind: kind, maxBytes: $0, caption: AttachmentLimits.takesCaption(channel: base.channel, kind: kind))
            }
        }
        let text = decide(.text)
        switch text {
        case .allowed(.viberChatbotInitiated): state.allowed.append(.chatbotInitiated)
        case .allowed(.recordUndelivered): state.sendsUndelivered = true
        case .allowed: state.allowed.append(.freeText)
        case .refused: break
        }
        if case .allowed = decide(.template) { state.allowed.append(.template) }
        state.tags = MessageTag.allCases.filter { tag in
            if case .allowed = decide(.tagged(tag)) { return true }
            return false
        }
        if state.tags.contains(where: { $0 != .humanAgent }) { state.allowed.append(.taggedMessage) }
        if base.channel == .viber {
            let used = base.viberMonth == WindowPolicy.utcMonth(base.now) ? base.viberMonthCount : 0
            state.viberQuotaLeft = max(0, WindowPolicy.viberFreeMonthlyMessages - used)
        }
        if base.channel == .wechat {
            state.weChatMessagesLeft = window.status == .open ? max(0, WindowPolicy.weChatMessageLimit - base.outboundSinceInbound) : 0
        }
        switch text {
        case .refused, .allowed(.recordUndelivered): state.canQueue = MessageQueue.queueable(base.channel)
        case .allowed: state.canQueue = false
        }
        if state.allowed.isEmpty { state.allowed = [.none] }
        state.reason = reason(base: base, text: text, window: window)
        return state
    }

    private static func reason(base: PolicyInput, text: PolicyDecision, window: WindowState) -> String {
        let closes = window.closesAt.map { $0.formatted(Date.ISO8601FormatStyle()) } ?? ""
        switch text {
        case .refused(let refusal):
            return refusal.message
        case .allowed(.standard):
            if window.status == .none { return "\(base.channel.rawValue) has no messaging window: anything can be sent at any time." }
            if base.channel == .wechat {
                return "The 48-hour window is open until \(closes); \(WindowPolicy.weChatMessageLimit - base.outboundSinceInbound) of \(WindowPolicy.weChatMessageLimit) messages left."
            }
            return "The 24-hour window is open until \(closes)."
        case .allowed(.meta(.response, _)):
            return "The 24-hour window is open until \(closes)."
        case .allowed(.meta(_, .humanAgent)):
            return "The 24-hour window is closed; as a human agent you can still reply (sent with the HUMAN_AGENT tag) for up to 7 days after the contact's last message."
        case .allowed(.viberChatbotInitiated(let billable)):
            return billable
                ? "Viber's session is closed and the month's free messages are used up; this message is billable under the accepted commercial terms."
                : "Viber's session is closed: this message is sent as chatbot-initiated and counts against this month's \(WindowPolicy.viberFreeMonthlyMessages) free messages."
        case .allowed(.recordUndelivered(.outsideWindow)):
            return "WeChat's 48-hour window is closed: a message sent now is recorded but not delivered until the contact writes again."
        case .allowed(.recordUndelivered(.messageLimit)):
            return "WeChat allows \(WindowPolicy.weChatMessageLimit) messages per 48-hour window and they are used: a message sent now is recorded but not delivered."
        case .allowed(.meta(_, _)), .allowed(.template):
            return "The window is closed."
        }
    }
}
