import Foundation

/// Whether an identity's messaging window is open, as a list row or the composer shows it.
public enum WindowStatus: String, Codable, Sendable {
    /// The channel has no window: anything may be sent at any time.
    case none
    case open
    case closed
}

/// A window's state at a moment: open or closed, and when it closes or closed.
public struct WindowState: Codable, Sendable, Equatable {
    public var status: WindowStatus
    /// When the standard window closes (open) or closed (closed); nil without a window or
    /// before the contact ever wrote.
    public var closesAt: Date?

    public init(status: WindowStatus, closesAt: Date?) {
        self.status = status
        self.closesAt = closesAt
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

    /// The standard window's state. A window is open while `now < lastInbound + length`.
    public static func state(kind: ChannelKind, lastInboundAt: Date?, now: Date) -> WindowState {
        guard let length = standardLength(of: kind) else { return WindowState(status: .none, closesAt: nil) }
        guard let lastInboundAt else { return WindowState(status: .closed, closesAt: nil) }
        let closesAt = lastInboundAt.addingTimeInterval(length)
        return WindowState(status: now < closesAt ? .open : .closed, closesAt: closesAt)
    }
}
