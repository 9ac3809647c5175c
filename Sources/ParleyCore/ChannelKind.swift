/// The kinds of channel Parley speaks. The raw value is the wire name used by the API.
public enum ChannelKind: String, Codable, Sendable, CaseIterable {
    case telegram
    case line
    case webchat
    case sms
    case email
    case whatsapp
    case messenger
    case instagram
    case viber
    case wechat
}

extension ChannelKind {
    /// The channel's name as people write it, for sentences shown to agents.
    public var displayName: String {
        switch self {
        case .telegram: return "Telegram"
        case .line: return "LINE"
        case .webchat: return "website chat"
        case .sms: return "SMS"
        case .email: return "email"
        case .whatsapp: return "WhatsApp"
        case .messenger: return "Messenger"
        case .instagram: return "Instagram"
        case .viber: return "Viber"
        case .wechat: return "WeChat"
        }
    }
}
