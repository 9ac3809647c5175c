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
