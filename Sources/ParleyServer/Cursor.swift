import Foundation

/// Opaque keyset cursors: base64url of a small JSON array of the sort key's values. Clients pass
/// them back untouched; anything else is refused with a 400.
enum Cursor {
    static func encode(_ values: [Int64]) -> String {
        let json = "[" + values.map(String.init).joined(separator: ",") + "]"
        return Data(json.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ cursor: String?, count: Int) throws -> [Int64]? {
        guard let cursor, !cursor.isEmpty else { return nil }
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard cursor.count <= 200,
              let data = Data(base64Encoded: base64),
              let values = try? JSONDecoder().decode([Int64].self, from: data),
              values.count == count
        else {
            throw APIError(.badRequest, code: "invalid_cursor", message: "cursor is not one this server issued", field: "cursor")
        }
        return values
    }
}

/// Reads the standard `limit` query parameter.
enum Limit {
    static func parse(_ raw: String?, default fallback: Int = 50, max: Int = 200) throws -> Int {
        guard let raw else { return fallback }
        guard let value = Int(raw), (1...max).contains(value) else {
            throw APIError.badRequest("query parameter 'limit' must be an integer from 1 to \(max)", field: "limit")
        }
        return value
    }
}
