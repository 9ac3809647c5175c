import Foundation
import ParleyCore

/// What a contact sent, as Parley keeps it: a kind ("text", "button", "location", "sticker", …),
/// text that is never empty (the customer's own words, or a placeholder naming the kind), and
/// the structured facts the provider gave (a button's payload, coordinates, a media id).
public struct InboundContent: Sendable, Equatable {
    public var kind: String
    public var text: String
    public var details: [String: String]
    /// Files the contact sent, to be downloaded off the webhook's path.
    public var media: [MediaSource] = []

    public init(kind: String, text: String, details: [String: String] = [:]) {
        self.kind = kind
        self.details = details.filter { !$0.value.isEmpty }
        self.text = text.isEmpty ? Self.placeholder(kind) : text
    }

    public static func text(_ text: String) -> InboundContent {
        InboundContent(kind: "text", text: text)
    }

    /// Content Parley does not render: its kind, with the caption or description when there is one.
    public static func other(_ kind: String, caption: String? = nil, details: [String: String] = [:]) -> InboundContent {
        InboundContent(kind: kind, text: caption ?? "", details: details)
    }

    /// A location as one readable line: name, address and coordinates, whichever are given.
    public static func location(latitude: Any?, longitude: Any?, name: String? = nil, address: String? = nil) -> InboundContent {
        let lat = Self.number(latitude), lon = Self.number(longitude)
        let coordinates = lat.flatMap { lat in lon.map { "(\(lat), \($0))" } }
        let line = [name, address, coordinates].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: " ")
        var details: [String: String] = [:]
        details["latitude"] = lat
        details["longitude"] = lon
        details["name"] = name
        details["address"] = address
        return InboundContent(kind: "location", text: line, details: details)
    }

    /// The same content with a file to download.
    public func with(media source: MediaSource?) -> InboundContent {
        var copy = self
        if let source, !source.reference.isEmpty { copy.media.append(source) }
        return copy
    }

    /// "[sticker]", "[location]": how a kind reads where there is no text.
    public static func placeholder(_ kind: String) -> String { "[\(kind)]" }

    /// The details as a JSON object, or nil when there are none.
    public var detailsJSON: String? {
        guard !details.isEmpty, let data = try? JSONSerialization.data(withJSONObject: details, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func number(_ value: Any?) -> String? {
        if let number = value as? NSNumber { return number.stringValue }
        if let text = value as? String, Double(text) != nil { return text }
        return nil
    }
}

/// A message from a contact.
public struct InboundMessageEvent: Sendable, Equatable {
    /// The sender's address on the channel (the identity's external id).
    public var externalId: String
    /// Another address of the same sender that a later message may use instead (WhatsApp's
    /// business-scoped user id next to the phone number).
    public var aliasId: String?
    public var displayName: String?
    /// The sender's phone number in E.164 when the address is one (WhatsApp, SMS).
    public var phone: String?
    public var providerMessageId: String
    /// The provider's timestamp: the messaging window opens here.
    public var timestamp: Date
    public var content: InboundContent

    public init(externalId: String, aliasId: String? = nil, displayName: String?, phone: String? = nil, providerMessageId: String,
                timestamp: Date, content: InboundContent) {
        self.externalId = externalId
        self.aliasId = aliasId == externalId ? nil : aliasId
        self.displayName = displayName.flatMap { $0.isEmpty ? nil : $0 }
        self.phone = phone
        self.providerMessageId = providerMessageId
        self.timestamp = timestamp
        self.content = content
    }
}

/// A contact changed a message they sent earlier: new text (an edit) or withdrawn (unsent).
public struct InboundRevision: Sendable, Equatable {
    public var providerMessageId: String
    /// The new text; nil when the message was withdrawn.
    public var text: String?
    public var deleted: Bool
    public var at: Date

    public init(providerMessageId: String, text: String?, deleted: Bool, at: Date) {
        self.providerMessageId = providerMessageId
        self.text = text
        self.deleted = deleted
        self.at = at
    }
}

extension Date {
    /// A provider's epoch-milliseconds timestamp, exactly (see ``Date/epochMilliseconds``).
    static func providerMilliseconds(_ value: Any?) -> Date? {
        if let number = value as? NSNumber {
            let double = number.doubleValue
            guard double.isFinite, double > 0 else { return nil }
            return Date(epochMilliseconds: number.int64Value)
        }
        if let text = value as? String, let milliseconds = Int64(text), milliseconds > 0 { return Date(epochMilliseconds: milliseconds) }
        return nil
    }

    /// A provider's epoch-seconds timestamp (number or decimal string).
    static func providerSeconds(_ value: Any?) -> Date? {
        if let number = value as? NSNumber { return Date(timeIntervalSince1970: number.doubleValue) }
        if let text = value as? String, let seconds = TimeInterval(text) { return Date(timeIntervalSince1970: seconds) }
        return nil
    }
}

/// A phone number in E.164 from a provider's address ("5215512345678" or "+14155551234"), or nil.
public func e164(_ address: String) -> String? {
    let digits = address.hasPrefix("+") ? String(address.dropFirst()) : address
    guard (8...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0" else { return nil }
    return "+" + digits
}
