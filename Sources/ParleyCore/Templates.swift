import Foundation

/// A WhatsApp template's review status; only approved templates may be sent.
public enum TemplateStatus: String, Codable, Sendable, CaseIterable {
    case approved = "APPROVED"
    case pending = "PENDING"
    case rejected = "REJECTED"
    case paused = "PAUSED"
    case disabled = "DISABLED"
}

public enum TemplateCategory: String, Codable, Sendable, CaseIterable {
    case marketing = "MARKETING"
    case utility = "UTILITY"
    case authentication = "AUTHENTICATION"
}

/// A WhatsApp message template of one channel.
public struct MessageTemplate: Codable, Sendable, Equatable {
    public var id: Int64
    public var channelId: Int64
    public var name: String
    public var language: String
    public var category: TemplateCategory
    public var status: TemplateStatus
    /// The body text with `{{1}}`, `{{2}}`… placeholders.
    public var body: String
    public var parameterCount: Int
    public var updatedAt: Date

    public init(id: Int64, channelId: Int64, name: String, language: String, category: TemplateCategory, status: TemplateStatus,
                body: String, parameterCount: Int, updatedAt: Date) {
        self.id = id
        self.channelId = channelId
        self.name = name
        self.language = language
        self.category = category
        self.status = status
        self.body = body
        self.parameterCount = parameterCount
        self.updatedAt = updatedAt
    }
}

/// Placeholders in template bodies.
public enum TemplateBody {
    /// The highest `{{n}}` in the body: the number of parameters a send must give.
    public static func parameterCount(_ body: String) -> Int {
        placeholders(body).map(\.number).max() ?? 0
    }

    /// The body with each `{{n}}` replaced by the n-th parameter.
    public static func render(_ body: String, parameters: [String]) -> String {
        var result = ""
        var index = body.startIndex
        for placeholder in placeholders(body) {
            result += body[index..<placeholder.range.lowerBound]
            let number = placeholder.number
            result += number >= 1 && number <= parameters.count ? parameters[number - 1] : String(body[placeholder.range])
            index = placeholder.range.upperBound
        }
        return result + body[index...]
    }

    private static func placeholders(_ body: String) -> [(range: Range<String.Index>, number: Int)] {
        var found: [(Range<String.Index>, Int)] = []
        var search = body.startIndex
        while let open = body.range(of: "{{", range: search..<body.endIndex),
              let close = body.range(of: "}}", range: open.upperBound..<body.endIndex) {
            let inner = body[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if let number = Int(inner), number > 0, number <= 100 {
                found.append((open.lowerBound..<close.upperBound, number))
                search = close.upperBound
            } else {
                search = open.upperBound
            }
        }
        return found
    }
}

/// How the outbox must deliver a message: written when the message is accepted, read by the
/// channel adapters.
public struct DeliveryInstructions: Codable, Sendable, Equatable {
    public struct TemplateReference: Codable, Sendable, Equatable {
        public var name: String
        public var language: String
        public var parameters: [String]

        public init(name: String, language: String, parameters: [String]) {
            self.name = name
            self.language = language
            self.parameters = parameters
        }
    }

    public var text: String
    public var template: TemplateReference?
    public var messagingType: MetaMessagingType?
    public var tag: MessageTag?
    public var viberChatbotInitiated: Bool
    public var billable: Bool
    /// Email: the subject the agent wrote (nil: the thread's).
    public var subject: String?
    /// The ids of the files sent with the message.
    public var attachments: [Int64]?

    public init(text: String, template: TemplateReference? = nil, messagingType: MetaMessagingType? = nil, tag: MessageTag? = nil,
                viberChatbotInitiated: Bool = false, billable: Bool = false, subject: String? = nil) {
        self.text = text
        self.template = template
        self.messagingType = messagingType
        self.tag = tag
        self.viberChatbotInitiated = viberChatbotInitiated
        self.billable = billable
        self.subject = subject
    }
}
