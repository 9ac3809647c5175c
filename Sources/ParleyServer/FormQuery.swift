import Foundation

/// Query parameters read as browsers write them (`application/x-www-form-urlencoded`, which
/// `URLSearchParams` uses): "+" is a space and "%2B" a plus. Percent-decoding alone would turn
/// a searched "Rosa Martínez" into "Rosa+Martínez" and find nothing.
enum FormQuery {
    static func value(_ name: String, in query: String?) -> String? {
        guard let query, !query.isEmpty else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = parts.first.flatMap({ decode($0) }), key == name else { continue }
            return parts.count > 1 ? decode(parts[1]) : ""
        }
        return nil
    }

    static func decode(_ raw: Substring) -> String? {
        raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
