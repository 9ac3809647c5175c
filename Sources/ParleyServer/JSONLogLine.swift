import Foundation
import Logging

/// A log entry as one JSON object on a line, for log shippers (`--log-format json`): `time`,
/// `level`, `logger`, `message`, then the entry's metadata (`request_id` on every request's and
/// job's lines) as strings, nested lists and objects.
enum JSONLogLine {
    static func line(_ event: LogEvent, fields: Logger.Metadata, label: String) -> String? {
        var object: [String: Any] = [
            "time": timestamp(Date()),
            "level": event.level.rawValue,
            "logger": label,
            "message": "\(event.message)",
        ]
        for (key, value) in fields where object[key] == nil {
            object[key] = plain(value)
        }
        if event.level >= .error { object["source"] = "\(event.file):\(event.line)" }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .array(let values): return values.map(plain)
        case .dictionary(let values): return values.mapValues(plain)
        }
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
