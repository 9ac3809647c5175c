import Foundation
import Logging

/// Parley's log handler: one line per entry, as plain text (`--log-format text`, the default,
/// on standard output) or as a JSON object (`--log-format json`, on standard error).
///
/// swift-log's own plain handler formats the logger's fields into text each time one is set.
/// Every request sets fields on its logger (`request_id`, `user`, the router's id) and most
/// requests log nothing at the configured level, so that formatting was paid for nothing: 4% of
/// the CPU of a request to the hello route. Here fields are formatted only for a line written.
public struct LineLogHandler: LogHandler {
    public enum Format: Sendable {
        case text, json
    }

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: Format
    let write: @Sendable (String) -> Void

    public init(label: String, format: Format, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.init(label: label, format: format, metadataProvider: metadataProvider,
                  write: Self.writer(to: format == .json ? STDERR_FILENO : STDOUT_FILENO))
    }

    init(label: String, format: Format, metadataProvider: Logger.MetadataProvider? = nil, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.format = format
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // The logger's fields, then the metadata provider's, then the entry's own, each
        // overriding the one before; an error adds its text and type.
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        if let error = event.error {
            fields["error.message"] = "\(error)"
            fields["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        let line = switch format {
        case .text: TextLogLine.line(event, fields: fields, label: label)
        case .json: JSONLogLine.line(event, fields: fields, label: label)
        }
        if let line { write(line) }
    }

    /// One `write(2)` per line, so lines from concurrent tasks never interleave.
    static func writer(to descriptor: Int32) -> @Sendable (String) -> Void {
        { line in
            var bytes = Array(line.utf8)
            _ = bytes.withUnsafeMutableBytes { buffer in
                Foundation.write(descriptor, buffer.baseAddress, buffer.count)
            }
        }
    }
}

/// swift-log's plain layout: `time level label: key=value … [source] message`.
enum TextLogLine {
    static func line(_ event: LogEvent, fields: Logger.Metadata, label: String) -> String {
        let pairs = fields.isEmpty ? "" : " " + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "\(timestamp()) \(event.level)\(label.isEmpty ? "" : " ")\(label):\(pairs) [\(event.source)] \(event.message)\n"
    }

    /// Local time to the second with its offset, as swift-log writes it: `2026-12-01T14:38:16+0000`.
    static func timestamp() -> String {
        var now = time(nil)
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
