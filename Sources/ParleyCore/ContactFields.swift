import Foundation

/// The writable fields of a contact, validated. Used for create (all fields) and update (the
/// fields present replace the stored ones).
public struct ContactFields: Sendable, Equatable {
    public var firstName: String?
    public var lastName: String?
    /// `.some(nil)` clears the field.
    public var email: String??
    public var phone: String??
    public var language: String??
    public var country: String??
    /// Replaces the whole set when present.
    public var tags: [String]?
    /// Values to set; `nil` values remove a field. Other fields are kept.
    public var customFields: [String: CustomFieldValue?]?

    public init(
        firstName: String? = nil, lastName: String? = nil, email: String?? = nil, phone: String?? = nil,
        language: String?? = nil, country: String?? = nil, tags: [String]? = nil, customFields: [String: CustomFieldValue?]? = nil
    ) {
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.phone = phone
        self.language = language
        self.country = country
        self.tags = tags
        self.customFields = customFields
    }
}

/// Rules for contact fields shared by the API and the CSV importer.
public enum ContactRules {
    public static let maxNameLength = 100
    public static let maxTags = 50
    public static let maxTagLength = 50

    public struct Failure: Error, Equatable, Sendable {
        public let field: String
        public let message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    /// Trims and checks every present field; returns the cleaned fields or the first problem.
    public static func clean(_ fields: ContactFields) -> Result<ContactFields, Failure> {
        var cleaned = fields
        for (name, value) in [("firstName", fields.firstName), ("lastName", fields.lastName)] {
            guard let value else { continue }
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.count <= maxNameLength else { return .failure(Failure(field: name, message: "must be at most \(maxNameLength) characters")) }
            if name == "firstName" { cleaned.firstName = trimmed } else { cleaned.lastName = trimmed }
        }
        if let email = fields.email, let email {
            let trimmed = email.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty {
                cleaned.email = .some(nil)
            } else {
                guard Validation.isPlausibleEmail(trimmed) else { return .failure(Failure(field: "email", message: "is not an email address")) }
                cleaned.email = .some(trimmed)
            }
        }
        if let phone = fields.phone, let phone {
            let compact = phone.filter { !" ()-.".contains($0) }
            if compact.isEmpty {
                cleaned.phone = .some(nil)
            } else {
                guard Validation.isE164(compact) else {
                    return .failure(Failure(field: "phone", message: "must be an E.164 number such as +14155551234"))
                }
                cleaned.phone = .some(compact)
            }
        }
        if let language = fields.language, let language {
            let trimmed = language.trimmingCharacters(in: .whitespaces)
            guard trimmed.isEmpty || (2...35).contains(trimmed.count) && trimmed.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "-" || $0 == "_") }) else {
                return .failure(Failure(field: "language", message: "must be a language tag such as es or pt-BR"))
            }
            cleaned.language = .some(trimmed.isEmpty ? nil : trimmed)
        }
        if let country = fields.country, let country {
            let trimmed = country.trimmingCharacters(in: .whitespaces).uppercased()
            guard trimmed.isEmpty || trimmed.count == 2 && trimmed.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                return .failure(Failure(field: "country", message: "must be a two-letter ISO 3166 code such as MX"))
            }
            cleaned.country = .some(trimmed.isEmpty ? nil : trimmed)
        }
        if let tags = fields.tags {
            var seen = Set<String>()
            var result: [String] = []
            for (index, tag) in tags.enumerated() {
                let trimmed = tag.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !trimmed.isEmpty, trimmed.count <= maxTagLength else {
                    return .failure(Failure(field: "tags[\(index)]", message: "must be 1 to \(maxTagLength) characters"))
                }
                if seen.insert(trimmed.lowercased()).inserted { result.append(trimmed) }
            }
            guard result.count <= maxTags else { return .failure(Failure(field: "tags", message: "may hold at most \(maxTags) tags")) }
            cleaned.tags = result
        }
        return .success(cleaned)
    }
}
