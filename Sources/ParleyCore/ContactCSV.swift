import Foundation

/// The contact CSV format shared by import and export. A header row names the columns:
/// `firstName, lastName, email, phone, language, country, tags` (any case; `first_name` and
/// `First Name` also work) and custom field keys. Tags are separated by `;`.
public struct ContactCSV: Sendable {
    enum Column: Sendable, Equatable {
        case firstName, lastName, email, phone, language, country, tags
        case custom(CustomFieldDefinition)
    }

    public struct HeaderFailure: Error, Equatable, Sendable {
        public let message: String
    }

    public static let standardHeader = ["firstName", "lastName", "email", "phone", "language", "country", "tags"]

    let columns: [Column]

    /// Reads the header against the workspace's custom fields; unknown or repeated columns refuse the file.
    public init(header: [String], definitions: [CustomFieldDefinition]) throws(HeaderFailure) {
        var columns: [Column] = []
        for name in header {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            let normalized = trimmed.lowercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: " ", with: "")
            let column: Column
            switch normalized {
            case "firstname": column = .firstName
            case "lastname": column = .lastName
            case "email": column = .email
            case "phone": column = .phone
            case "language": column = .language
            case "country": column = .country
            case "tags": column = .tags
            default:
                guard let definition = definitions.first(where: { $0.key == trimmed }) else {
                    throw HeaderFailure(message: "unknown column '\(trimmed)': use \(Self.standardHeader.joined(separator: ", ")) or a custom field key")
                }
                column = .custom(definition)
            }
            if columns.contains(column) { throw HeaderFailure(message: "column '\(trimmed)' appears twice") }
            columns.append(column)
        }
        guard !columns.isEmpty else { throw HeaderFailure(message: "the header row is empty") }
        self.columns = columns
    }

    /// One row's fields, cleaned and typed, or the reason it is rejected. Empty cells are left unset.
    public func fields(from row: [String]) -> Result<ContactFields, ContactRules.Failure> {
        guard row.count == columns.count else {
            return .failure(.init(field: "row", message: "has \(row.count) columns, the header has \(columns.count)"))
        }
        var fields = ContactFields()
        var custom: [String: CustomFieldValue?] = [:]
        var definitions: [CustomFieldDefinition] = []
        for (column, raw) in zip(columns, row) {
            let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { continue }
            switch column {
            case .firstName: fields.firstName = value
            case .lastName: fields.lastName = value
            case .email: fields.email = .some(value)
            case .phone: fields.phone = .some(value)
            case .language: fields.language = .some(value)
            case .country: fields.country = .some(value)
            case .tags: fields.tags = value.split(separator: ";").map { String($0) }
            case .custom(let definition):
                definitions.append(definition)
                switch definition.type {
                case .number:
                    guard let number = Double(value) else { return .failure(.init(field: definition.key, message: "must be a number")) }
                    custom[definition.key] = .number(number)
                case .checkbox:
                    switch value.lowercased() {
                    case "true", "yes", "1", "x": custom[definition.key] = .checkbox(true)
                    case "false", "no", "0": custom[definition.key] = .checkbox(false)
                    default: return .failure(.init(field: definition.key, message: "must be true or false"))
                    }
                case .text, .date, .list:
                    custom[definition.key] = .text(value)
                }
            }
        }
        if !custom.isEmpty {
            switch CustomFieldValidation.validate(custom, definitions: definitions) {
            case .success(let typed): fields.customFields = typed
            case .failure(let failure): return .failure(.init(field: failure.field, message: failure.message))
            }
        }
        if fields.firstName == nil, fields.lastName == nil, fields.email == nil, fields.phone == nil {
            return .failure(.init(field: "row", message: "needs at least a name, an email or a phone number"))
        }
        return ContactRules.clean(fields)
    }

    /// The export header for a workspace.
    public static func header(definitions: [CustomFieldDefinition]) -> [String] {
        standardHeader + definitions.map(\.key)
    }

    /// One contact as an export row, in ``header(definitions:)`` order.
    public static func row(_ contact: Contact, definitions: [CustomFieldDefinition]) -> [String] {
        var row = [contact.firstName, contact.lastName, contact.email ?? "", contact.phone ?? "", contact.language ?? "",
                   contact.country ?? "", contact.tags.joined(separator: ";")]
        for definition in definitions {
            switch contact.customFields[definition.key] {
            case .text(let value), .date(let value), .list(let value): row.append(value)
            case .number(let value): row.append(value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value))
            case .checkbox(let value): row.append(value ? "true" : "false")
            case nil: row.append("")
            }
        }
        return row
    }
}

extension ContactCSV.Column {
    static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.custom(let a), .custom(let b)): return a.key == b.key
        case (.firstName, .firstName), (.lastName, .lastName), (.email, .email), (.phone, .phone),
             (.language, .language), (.country, .country), (.tags, .tags): return true
        default: return false
        }
    }
}
