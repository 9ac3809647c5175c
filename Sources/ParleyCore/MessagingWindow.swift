import Foundation

/// Whether an identity's messaging window is open, as a list row or the composer shows it.
public enum WindowStatus: String, Codable, Sendable {
    /// The channel has no window: anything may be sent at any time.
    case none
    case open
    case closed
}

/// What ended a closed window.
public enum WindowClosure: String, Codable, Sendable {
    /// Its time ran out.
    case time
    /// Its messages were used up (WeChat: 20 per 48-hour window) before its time ran out.
    case messageLimit = "message_limit"
}

/// A window's state at a moment: open or closed, and when it closes or closed.
public struct WindowState: Codable, Sendable, Equatable {
    public var status: WindowStatus
    /// When the window's time runs out (open) or ran out (closed); nil without a window or
    /// before the contact ever wrote.
    public var closesAt: Date?
    /// Why a closed window is closed; nil while open, without a window, or before the contact wrote.
    public var closedBy: WindowClosure?

    public init(status: WindowStatus, closesAt: Date?, closedBy: WindowClosure? = nil) {
        self.status = status
        self.closesAt = closesAt
        self.closedBy = closedBy
    }
}

/// The length of each channel's standard messaging window, from the contact's last inbound
/// message. Channels without a window are absent.
public enum MessagingWindow {
    public static func standardLength(of kind: ChannelKind) -> TimeInterval? {
        switch kind {
        case .telegram, .line, .webchat, .sms, .email: return nil
        case .whatsapp, .messenger, .instagram, .viber: return 24 * 3600
        case .wechat: return 48 * 3600
        }
    }

    /// The standard window's state. A window is open while `now < lastInbound + length` and,
    /// on WeChat, while fewer than its 20 messages were sent since the contact last wrote:
    /// either one ending closes it (SPEC §3).
    public static func state(kind: ChannelKind, lastInboundAt: Date?, now: Date, outboundSinceInbound: Int64 = 0) -> WindowState {
        guard let length = standardLength(of: kind) else { return WindowState(status: .none, closesAt: nil) }
        guard let lastInboundAt else { return WindowState(status: .closed, closesAt: nil) }
        let closesAt = lastInboundAt.addingTimeInterval(length)
        if now >= closesAt { return WindowState(status: .closed, closesAt: closesAt, closedBy: .time) }
        if kind == .wechat && outboundSinceInbound >= WindowPolicy.weChatMessageLimit {
            return WindowState(status: .closed, closesAt: closesAt, closedBy: .messageLimit)
        }
        return WindowState(status: .open, closesAt: closesAt)
    }
}
