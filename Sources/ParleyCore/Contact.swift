import Foundation

/// The type of a workspace-defined contact field.
public enum CustomFieldType: String, Codable, Sendable, CaseIterable {
    case text
    case number
    case date
    case checkbox
    case list
}

/// A workspace's definition of a custom contact field.
public struct CustomFieldDefinition: Codable, Sendable, Equatable {
    public var key: String
    public var label: String
    public var type: CustomFieldType
    /// The allowed values of a `list` field.
    public var options: [String]

    public init(key: String, label: String, type: CustomFieldType, options: [String] = []) {
        self.key = key
        self.label = label
        self.type = type
        self.options = options
    }
}

/// A custom field's value, typed by its definition.
public enum CustomFieldValue: Codable, Sendable, Equatable {
    case text(String)
    case number(Double)
    /// A calendar date, `YYYY-MM-DD`.
    case date(String)
    case checkbox(Bool)
    case list(String)

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let value), .date(let value), .list(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .checkbox(let value): try container.encode(value)
        }
    }

    /// Decoding alone cannot tell text from date from list; values are typed by
    /// ``CustomFieldValidation`` against the definitions. This keeps the raw JSON shape.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = .checkbox(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    /// The text searched exactly (case-insensitively), for text fields only.
    public var searchableText: String? {
        if case .text(let value) = self { return value }
        return nil
    }
}

/// A contact as the domain sees it.
public struct Contact: Codable, Sendable, Equatable {
    public var id: Int64
    public var workspaceId: Int64
    public var firstName: String
    public var lastName: String
    public var email: String?
    public var phone: String?
    public var language: String?
    public var country: String?
    public var tags: [String]
    public var customFields: [String: CustomFieldValue]
    public var identities: [ContactIdentity]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, workspaceId: Int64, firstName: String, lastName: String, email: String?, phone: String?,
        language: String?, country: String?, tags: [String], customFields: [String: CustomFieldValue],
        identities: [ContactIdentity], createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.workspaceId = workspaceId
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.phone = phone
        self.language = language
        self.country = country
        self.tags = tags
        self.customFields = customFields
        self.identities = identities
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// "First Last", or the first identity's display name, or the email or phone.
    public var displayName: String {
        Contact.displayName(firstName: firstName, lastName: lastName, fallback: identities.first?.displayName ?? email ?? phone)
    }

    public static func displayName(firstName: String, lastName: String, fallback: String?) -> String {
        let name = [firstName, lastName].filter { !$0.isEmpty }.joined(separator: " ")
        return name.isEmpty ? (fallback ?? "") : name
    }
}

/// A contact's address on one channel, with the thread state the messaging window is decided on.
public struct ContactIdentity: Codable, Sendable, Equatable {
    public var id: Int64
    public var channelId: Int64
    public var channelType: ChannelKind
    public var externalId: String
    public var displayName: String?
    /// The provider's timestamp of the contact's last inbound message on this identity.
    public var lastInboundAt: Date?
    /// Outbound messages sent since that inbound message.
    public var outboundSinceInbound: Int64

    public init(id: Int64, channelId: Int64, channelType: ChannelKind, externalId: String, displayName: String?,
                lastInboundAt: Date?, outboundSinceInbound: Int64) {
        self.id = id
        self.channelId = channelId
        self.channelType = channelType
        self.externalId = externalId
        self.displayName = displayName
        self.lastInboundAt = lastInboundAt
        self.outboundSinceInbound = outboundSinceInbound
    }
}
