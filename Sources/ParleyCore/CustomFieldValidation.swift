import Foundation

/// Checks custom field values against the workspace's definitions.
public enum CustomFieldValidation {
    public struct Failure: Error, Equatable, Sendable {
        public let field: String
        public let message: String
    }

    public static let maxTextLength = 1000

    /// Field keys: 1–64 lowercase letters, digits and underscores, starting with a letter.
    public static func isValidKey(_ key: String) -> Bool {
        guard let first = key.first, first.isASCII, first.isLowercase, (1...64).contains(key.count) else { return false }
        return key.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
    }

    /// Types each raw value by its definition. `nil` values (JSON null) remove the field.
    public static func validate(
        _ raw: [String: CustomFieldValue?], definitions: [CustomFieldDefinition]
    ) -> Result<[String: CustomFieldValue?], Failure> {
        var typed: [String: CustomFieldValue?] = [:]
        for (key, value) in raw {
            let field = "customFields.\(key)"
            guard let definition = definitions.first(where: { $0.key == key }) else {
                return .failure(Failure(field: field, message: "no custom field '\(key)' is defined"))
            }
            guard let value else {
                typed[key] = .some(nil)
                continue
            }
            switch (definition.type, value) {
            case (.text, .text(let text)):
                guard text.count <= maxTextLength else {
                    return .failure(Failure(field: field, message: "must be at most \(maxTextLength) characters"))
                }
                typed[key] = .text(text)
            case (.number, .number(let number)):
                guard number.isFinite else { return .failure(Failure(field: field, message: "must be a finite number")) }
                typed[key] = .number(number)
            case (.date, .text(let text)):
                guard isCalendarDate(text) else { return .failure(Failure(field: field, message: "must be a date YYYY-MM-DD")) }
                typed[key] = .date(text)
            case (.checkbox, .checkbox(let flag)):
                typed[key] = .checkbox(flag)
            case (.list, .text(let text)):
                guard definition.options.contains(text) else {
                    return .failure(Failure(field: field, message: "must be one of \(definition.options.joined(separator: ", "))"))
                }
                typed[key] = .list(text)
            default:
                return .failure(Failure(field: field, message: "must be a \(expected(definition.type))"))
            }
        }
        return .success(typed)
    }

    /// Retypes stored values (kept as raw JSON) by the definitions; values whose definition
    /// is gone or changed type are dropped.
    public static func retype(_ stored: [String: CustomFieldValue], definitions: [CustomFieldDefinition]) -> [String: CustomFieldValue] {
        var result: [String: CustomFieldValue] = [:]
        for (key, value) in stored {
            if case .success(let typed) = validate([key: value], definitions: definitions), let one = typed[key], let one {
                result[key] = one
            }
        }
        return result
    }

    static func expected(_ type: CustomFieldType) -> String {
        switch type {
        case .text: return "string"
        case .number: return "number"
        case .date: return "date string YYYY-MM-DD"
        case .checkbox: return "boolean"
        case .list: return "string from the field's options"
        }
    }

    /// `YYYY-MM-DD` naming a real day.
    public static func isCalendarDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1
        else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= days[month - 1]
    }
}
