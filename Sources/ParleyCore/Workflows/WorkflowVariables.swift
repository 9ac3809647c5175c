import Foundation

/// `{{name}}` placeholders in a step's text, URL, headers and body. Names are looked up in a
/// flat dictionary the engine fills: `contact.firstName`, `contact.fields.<key>`, `contact.id`,
/// `conversation.id`, `channel`, `steps.<id>.<value>`, `trigger.<key>`. Unknown names become empty.
public enum WorkflowVariables {
    /// Replaces each placeholder by `escape(value)`.
    public static func render(_ text: String, values: [String: String], escape: (String) -> String = { $0 }) -> String {
        var output = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                output += rest[open.lowerBound...]
                return output
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            output += escape(values[name] ?? "")
            rest = rest[close.upperBound...]
        }
        return output + rest
    }

    /// Every placeholder replaced by `value`, to check the shape of a template.
    static func placeholder(in text: String, with value: String) -> String {
        render(text, values: [:], escape: { _ in value })
    }

    /// Escapes text for inside a JSON string literal.
    public static func jsonEscaped(_ text: String) -> String {
        guard let data = try? JSONEncoder().encode(text), let quoted = String(data: data, encoding: .utf8) else { return "" }
        return String(quoted.dropFirst().dropLast())
    }
}
